package org.retroinfer.model.generation;

/** Receives generation as it happens: prefill progress and every new token, for streaming. */
public interface GenerationListener {
    GenerationListener NONE = new GenerationListener() {};

    /** {@code done} of {@code total} prompt tokens of request {@code request} are prefilled. */
    default void prefilled(int request, long done, long total) {}

    /** Request {@code request} produced {@code token}. */
    default void token(int request, int token) {}
}
