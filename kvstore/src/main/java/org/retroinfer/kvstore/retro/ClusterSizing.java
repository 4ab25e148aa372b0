package org.retroinfer.kvstore.retro;

/**
 * How many clusters and k-means segments one clustering run uses (spec §1.1 and §1.4). Rounding
 * is Python's {@code round}, half to even, as in the reference code, so that the worked values of
 * the spec (8192 tokens: 1 segment, 512 clusters) come out alike.
 *
 * @param segments the segments of the segmented k-means: centroid block s clusters token segment s
 * @param clusters the clusters, a multiple of {@code segments}
 */
public record ClusterSizing(int segments, int clusters) {
    public ClusterSizing {
        if (segments < 1 || clusters < segments || clusters % segments != 0) {
            throw new IllegalArgumentException("clusters (" + clusters + ") must be a positive multiple of segments ("
                    + segments + ")");
        }
    }

    /**
     * The sizing of the index over a prompt of {@code promptTokens} positions (sinks and window
     * included, as the spec's L): S = max(round(L / segmentTokens), 1) segments and
     * C = round(L / clusterSize) clusters rounded to the nearest multiple of lcm(8, S), ties down.
     */
    public static ClusterSizing forPrompt(long promptTokens, RetroConfig config) {
        int segments = (int) Math.max(Math.rint((double) promptTokens / config.segmentTokens()), 1);
        int factor = lcm(8, segments);
        long wanted = Math.max((long) Math.rint((double) promptTokens / config.clusterSize()), factor);
        long lower = wanted / factor * factor;
        long upper = lower + factor;
        long clusters = wanted - lower <= upper - wanted ? lower : upper;
        if (clusters > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("a prompt of " + promptTokens + " tokens needs " + clusters
                    + " clusters, more than one index holds");
        }
        return new ClusterSizing(segments, (int) clusters);
    }

    /**
     * The sizing of one update of {@code updateSegment} generated positions: one segment of
     * max(round(updateSegment / clusterSize) / 8 · 8, 8) clusters (64 with the defaults).
     */
    public static ClusterSizing forUpdate(RetroConfig config) {
        int clusters = (int) Math.max((long) Math.rint((double) config.updateSegment() / config.clusterSize()) / 8 * 8, 8);
        return new ClusterSizing(1, clusters);
    }

    private static int lcm(int a, int b) {
        int x = a, y = b;
        while (y != 0) {
            int r = x % y;
            x = y;
            y = r;
        }
        return a / x * b;
    }
}
