package org.retroinfer.kvstore;

/**
 * The attention a KV cache serves: {@code layers} layers of {@code queryHeads} query heads sharing
 * {@code kvHeads} key/value heads (grouped-query attention), each vector {@code headDim} wide.
 */
public record AttentionShape(int layers, int queryHeads, int kvHeads, int headDim) {
    public AttentionShape {
        if (layers <= 0) {
            throw new IllegalArgumentException("layers must be positive, got " + layers);
        }
        if (kvHeads <= 0 || queryHeads <= 0 || queryHeads % kvHeads != 0) {
            throw new IllegalArgumentException("queryHeads (" + queryHeads + ") must be a positive multiple of kvHeads ("
                    + kvHeads + ")");
        }
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("headDim must be positive and even, got " + headDim);
        }
    }

    /** Query heads per KV head. */
    public int groupSize() {
        return queryHeads / kvHeads;
    }

    /** Floats of one token's queries, all heads. */
    public int queryWidth() {
        return queryHeads * headDim;
    }

    /** Floats of one token's keys (or values), all KV heads. */
    public int kvWidth() {
        return kvHeads * headDim;
    }

    /** The softmax temperature of scaled dot-product attention, 1/√headDim. */
    public float scale() {
        return (float) (1.0 / Math.sqrt(headDim));
    }
}
