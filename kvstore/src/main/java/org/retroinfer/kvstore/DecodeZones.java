package org.retroinfer.kvstore;

/**
 * What one sparse decode step of one (sequence, layer, KV head) did with each of the
 * {@code positions} stored positions, listed in an order of the cache's own (RetroInfer lists
 * its index cluster by cluster, then its steady zone): {@code scores[h·positions + t]} is query
 * head h's exact scaled score q_h·k_t/√d, and {@code zones[t]} is {@link #DROPPED},
 * {@link #EXACT} or {@link #ESTIMATED}.
 */
public record DecodeZones(int positions, int heads, float[] scores, byte[] zones) {
    /** Not attended. */
    public static final byte DROPPED = 0;
    /** Attended exactly. */
    public static final byte EXACT = 1;
    /** Attended through an estimate (RetroInfer's estimation zone). */
    public static final byte ESTIMATED = 2;

    public DecodeZones {
        if (positions < 0 || heads < 1) {
            throw new IllegalArgumentException("zones need positions >= 0 and heads >= 1, got " + positions + " and "
                    + heads);
        }
        if (scores.length < (long) heads * positions || zones.length < positions) {
            throw new IllegalArgumentException("zones of " + positions + " positions and " + heads + " heads need "
                    + (long) heads * positions + " scores and " + positions + " zones, got " + scores.length + " and "
                    + zones.length);
        }
    }

    /** Positions attended exactly. */
    public long exactCount() {
        long n = 0;
        for (int t = 0; t < positions; t++) {
            n += zones[t] == EXACT ? 1 : 0;
        }
        return n;
    }
}
