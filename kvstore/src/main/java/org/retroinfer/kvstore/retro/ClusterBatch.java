package org.retroinfer.kvstore.retro;

import static org.retroinfer.kernels.VectorSupport.FLOAT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.retroinfer.kernels.DType;

/**
 * The clusters one k-means run made of one KV head's keys (spec §1.3), in one off-heap segment:
 * the member keys in cluster order, then the member values in the same order, then one value sum
 * per cluster (all F16 or BF16), then the centroids (each its members' mean key, rounded to the
 * storage type as the reference keeps them) as F32. A cluster's keys and values are each one
 * contiguous run, read sequentially when it is retrieved.
 *
 * <p>The centroids are scored against every query at every decode step, so they are held as F32
 * (exactly their 16-bit values; the GPU cache scores the 16-bit ones) and transposed into blocks of {@link #BLOCK} centroids,
 * dimension-major: one vector load gives one coordinate of a whole block, and scoring needs no
 * horizontal sums. The block is the float vector's lane count, so the layout is this machine's.
 *
 * @param data     the segment
 * @param tokens   member keys (and values) stored
 * @param clusters clusters, empty ones included
 * @param sizes    members of cluster c
 * @param starts   index among the stored tokens of cluster c's first member
 * @param headDim  values per key, value, centroid and value sum
 * @param type     storage type of keys, values and value sums
 */
record ClusterBatch(MemorySegment data, int tokens, int clusters, int[] sizes, int[] starts, int headDim, DType type) {
    /** Centroids per transposed block: the float vector's lanes. */
    static final int BLOCK = FLOAT.length();

    /** Bytes a batch of {@code tokens} members and {@code clusters} clusters takes. */
    static long bytes(long tokens, int clusters, int headDim) {
        return 2L * (2 * tokens + clusters) * headDim + 4L * blocks(clusters) * BLOCK * headDim;
    }

    static int blocks(int clusters) {
        return (clusters + BLOCK - 1) / BLOCK;
    }

    /** Byte offset of stored key {@code token} (cluster order). */
    long keyOffset(int token) {
        return 2L * headDim * token;
    }

    /** Byte offset of stored value {@code token} (cluster order). */
    long valueOffset(int token) {
        return 2L * headDim * ((long) tokens + token);
    }

    /** Byte offset of the value sum of cluster {@code c}; value sums are contiguous. */
    long valueSumOffset(int c) {
        return 2L * headDim * (2L * tokens + c);
    }

    /** Byte offset of coordinate {@code i} of the centroids of block {@code b}: {@link #BLOCK} floats. */
    long centroidOffset(int b, int i) {
        return 2L * headDim * (2L * tokens + clusters) + 4L * ((long) b * headDim + i) * BLOCK;
    }

    /** Writes centroid {@code c}, {@code centroid[off .. off + headDim)}, into its block. */
    void setCentroid(int c, float[] centroid, int off) {
        for (int i = 0; i < headDim; i++) {
            data.set(ValueLayout.JAVA_FLOAT_UNALIGNED, centroidOffset(c / BLOCK, i) + 4L * (c % BLOCK), centroid[off + i]);
        }
    }

    /** Reads centroid {@code c} into {@code out[0 .. headDim)}. */
    void centroid(int c, float[] out) {
        for (int i = 0; i < headDim; i++) {
            out[i] = data.get(ValueLayout.JAVA_FLOAT_UNALIGNED, centroidOffset(c / BLOCK, i) + 4L * (c % BLOCK));
        }
    }
}
