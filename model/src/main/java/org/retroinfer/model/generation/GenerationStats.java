package org.retroinfer.model.generation;

/**
 * Timings of one {@link Generator#generate} call. Prefill covers every prompt token and the first
 * new token's logits; decode covers the lock-step steps after it.
 */
public record GenerationStats(long promptTokens, long prefillNanos, long decodeTokens, long decodeSteps,
                              long decodeNanos, long peakKvBytes) {
    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
    }

    public double decodeTokensPerSecond() {
        return decodeNanos == 0 ? 0 : decodeTokens * 1e9 / decodeNanos;
    }
}
