package org.retroinfer.accel.emulator;

/** A kernel failed in the CPU emulator: it threw, or broke a rule the GPU imposes (divergent barrier or shuffle). */
public final class EmulationException extends RuntimeException {
    public EmulationException(String message) {
        super(message);
    }

    public EmulationException(String message, Throwable cause) {
        super(message, cause);
    }
}
