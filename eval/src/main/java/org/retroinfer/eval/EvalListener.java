package org.retroinfer.eval;

/** Receives an evaluation as it runs, for progress bars and logs. */
public interface EvalListener {
    EvalListener NONE = new EvalListener() {};

    /** {@code done} of the {@code total} prompt tokens of {@code sample} are prefilled (once, for every mode). */
    default void prefilled(Sample sample, long done, long total) {}

    /** One sample is scored under one attention mode. */
    default void finished(Sample sample, SampleResult result) {}
}
