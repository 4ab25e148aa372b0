package org.retroinfer.kvstore;

/**
 * The seam between the transformer and the keys and values it attends to. The model hands over
 * each layer's post-RoPE keys and values and asks for attention outputs; what is kept, where, and
 * how exactly attention is computed is the cache's business (dense here; RetroInfer's wave index
 * behind the same interface).
 *
 * <p>Within one forward step the model calls, for every layer in order, {@link #append} with the
 * step's new keys and values and then {@link #attend} with the step's queries. Every query row sees
 * the positions of its sequence up to and including its own (causal attention). Rows are laid out
 * as {@link BatchLayout} says; a row holds all heads: queries {@code [queryHeads][headDim]}, keys and
 * values {@code [kvHeads][headDim]}.
 */
public interface KvCache extends AutoCloseable {
    AttentionShape shape();

    /** Starts an empty sequence and returns its id. */
    int openSequence();

    /** Frees everything the sequence holds; its id must not be used again. */
    void closeSequence(int sequence);

    /** Positions of {@code sequence} stored for {@code layer}. */
    long length(int sequence, int layer);

    /**
     * Stores the keys and values of the step's new positions for one layer:
     * row r of {@code keys} and {@code values} starts at {@code r · kvWidth}.
     */
    void append(int layer, BatchLayout batch, float[] keys, float[] values);

    /**
     * Writes attention outputs for the step's query rows of one layer into {@code out} (same layout
     * as {@code queries}: row r at {@code r · queryWidth}). The rows of a sequence are its last
     * {@code count} stored positions, in order.
     */
    void attend(int layer, BatchLayout batch, float[] queries, float[] out);

    /**
     * Says that every position appended to {@code sequence} so far was its prompt, and decoding
     * starts. Caches that index the prompt (RetroInfer's wave index) build their index here; a dense
     * cache has nothing to do.
     */
    default void endOfPrefill(int sequence) {}

    /**
     * Whether one step may hold both prompt rows and decode rows (a server's chunked prefill beside its decoding
     * sequences); a cache that cannot takes them in separate steps.
     */
    default boolean takesMixedSteps() {
        return true;
    }

    /**
     * The most bytes one sequence of {@code promptTokens} prompt positions and up to {@code generatedTokens} generated
     * ones makes this cache hold at any time, so that a server can admit sequences against a memory budget before it
     * runs them; -1 where the cache cannot bound it.
     */
    default long sequenceBytesBound(long promptTokens, long generatedTokens) {
        return -1;
    }

    /**
     * The fraction of retrieved clusters found in a GPU block cache so far, for caches that have one (RetroInfer's on
     * the GPU); empty for the others.
     */
    default java.util.OptionalDouble cacheHitRatio() {
        return java.util.OptionalDouble.empty();
    }

    /** Bytes of memory the cache holds now, by tier ("cpu", "gpu", "host" for pinned host memory a GPU reads). */
    default java.util.Map<String, Long> memoryBytesByTier() {
        return java.util.Map.of("cpu", memoryBytes());
    }

    /** Bytes of memory the cache holds now (off-heap pages and indexes). */
    long memoryBytes();

    @Override
    void close();
}
