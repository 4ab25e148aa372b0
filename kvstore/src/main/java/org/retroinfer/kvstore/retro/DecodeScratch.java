package org.retroinfer.kvstore.retro;

/**
 * A compute thread's scratch arrays for decode steps, grown as needed and reused, so that a step
 * over a long context allocates nothing large: at 64K positions the cluster weights and the
 * gathered value sums of one (sequence, KV head) are about half a megabyte, every layer and step,
 * and the garbage collector's pauses showed in decode times. An array handed out is the caller's
 * until its next request for the same kind on the same thread.
 */
final class DecodeScratch {
    private static final ThreadLocal<DecodeScratch> CURRENT = ThreadLocal.withInitial(DecodeScratch::new);

    private float[] weights = new float[0];
    private float[] scores = new float[0];
    private long[] rankKeys = new long[0];
    private float[] valueSums = new float[0];
    private float[] gathered = new float[0];

    private DecodeScratch() {}

    /** This thread's scratch. */
    static DecodeScratch get() {
        return CURRENT.get();
    }

    /** At least n floats for cluster weights (contents undefined). */
    float[] weights(int n) {
        if (weights.length < n) {
            weights = new float[n];
        }
        return weights;
    }

    /** At least n floats for cluster scores (contents undefined). */
    float[] scores(int n) {
        if (scores.length < n) {
            scores = new float[n];
        }
        return scores;
    }

    /** At least n longs for ranking keys (contents undefined). */
    long[] rankKeys(int n) {
        if (rankKeys.length < n) {
            rankKeys = new long[n];
        }
        return rankKeys;
    }

    /** At least n floats for gathered value sums (contents undefined). */
    float[] valueSums(int n) {
        if (valueSums.length < n) {
            valueSums = new float[n];
        }
        return valueSums;
    }

    /** At least n floats for gathered weights (contents undefined). */
    float[] gathered(int n) {
        if (gathered.length < n) {
            gathered = new float[n];
        }
        return gathered;
    }
}
