package org.retroinfer.serve;

import java.util.concurrent.atomic.AtomicBoolean;

/** A request handed to the scheduler; {@link #cancel} (a client gone) frees its sequence at the next step. */
public final class Submission {
    private final AtomicBoolean cancelled = new AtomicBoolean();

    public void cancel() {
        cancelled.set(true);
    }

    boolean cancelled() {
        return cancelled.get();
    }
}
