package org.retroinfer.examples;

/** A mistake in the command line; its message is shown as one line and the command exits with 2. */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }
}
