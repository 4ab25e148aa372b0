package org.retroinfer.kvstore.retro;

import java.lang.foreign.MemorySegment;
import org.retroinfer.kernels.DType;

/**
 * The clusters one k-means run made of one KV head's keys (spec §1.3): in one off-heap segment,
 * the member keys in cluster order, then the member values in the same order, then one centroid
 * (the members' mean key) per cluster, then one value sum per cluster, all F16 or BF16. A cluster's
 * keys and values are each one contiguous run, read sequentially when the cluster is retrieved.
 *
 * @param data     the segment
 * @param tokens   member keys (and values) stored
 * @param clusters clusters, empty ones included
 * @param sizes    members of cluster c
 * @param starts   index among the stored tokens of cluster c's first member
 * @param headDim  values per key, value, centroid and value sum
 * @param type     storage type
 */
record ClusterBatch(MemorySegment data, int tokens, int clusters, int[] sizes, int[] starts, int headDim, DType type) {
    /** Bytes a batch of {@code tokens} members and {@code clusters} clusters takes. */
    static long bytes(long tokens, long clusters, int headDim) {
        return 2L * (tokens + clusters) * headDim * 2;
    }

    /** Byte offset of stored key {@code token} (cluster order). */
    long keyOffset(int token) {
        return 2L * headDim * token;
    }

    /** Byte offset of stored value {@code token} (cluster order). */
    long valueOffset(int token) {
        return 2L * headDim * ((long) tokens + token);
    }

    /** Byte offset of the centroid of cluster {@code c}; centroids are contiguous. */
    long centroidOffset(int c) {
        return 2L * headDim * (2L * tokens + c);
    }

    /** Byte offset of the value sum of cluster {@code c}; value sums are contiguous. */
    long valueSumOffset(int c) {
        return 2L * headDim * (2L * tokens + clusters + c);
    }
}
