package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.Grid;

/**
 * The shape of one split-KV decode attention launch, and the memory layout its two kernels share.
 *
 * <p>Layout (every offset is a {@code long}, in elements):
 * <ul>
 *   <li>queries {@code q}: F32 {@code [batch][kvHeads·groupSize][HEAD_DIM]}; query head {@code h} belongs to
 *       KV head {@code h / groupSize} (Llama's grouping), so the group of one KV head is contiguous;</li>
 *   <li>keys and values: 16-bit {@code [batch][kvHeads][capacity][HEAD_DIM]}, one contiguous slot of
 *       {@code capacity} tokens per (sequence, KV head); sequence {@code s} uses its first {@code lengths[s]}
 *       tokens and nothing past them is read;</li>
 *   <li>key weights (the weighted kernels only): F32 {@code [batch][kvHeads][capacity]}, one per key slot;</li>
 *   <li>partials: F32 {@code [batch][kvHeads][splits][groupSize][HEAD_DIM]} normalised outputs and
 *       {@code [batch][kvHeads][splits][groupSize]} log-sum-exps (natural log of the scaled scores);</li>
 *   <li>outputs, and a previous partial merged into them: F32 {@code [batch][kvHeads·groupSize][HEAD_DIM]} and
 *       {@code [batch][kvHeads·groupSize]} lse.</li>
 * </ul>
 *
 * @param batch     sequences, one decode query row each
 * @param kvHeads   KV heads per sequence
 * @param groupSize query heads per KV head (GQA); a partials block holds {@link #QUAD} of them in
 *                  registers, so a group of up to four reads each K/V element once; larger groups (at most
 *                  {@link #MAX_GROUP}) take a block per four heads, each reading the K/V
 * @param capacity  token slots per (sequence, KV head)
 * @param splits    blocks the KV sequence of one (sequence, KV head) is cut into
 */
public record DecodeAttentionShape(int batch, int kvHeads, int groupSize, long capacity, int splits) {
    /** Head dimension the kernels are written for (Llama 3, Mistral, Qwen2/3 at 7-8B). */
    public static final int HEAD_DIM = 128;
    /** Largest GQA group one block handles (Llama 3 70B's 64 query / 8 KV heads). */
    public static final int MAX_GROUP = 8;
    /** Query heads one partials block serves: their queries and outputs live in each lane's registers. */
    public static final int QUAD = 4;
    /** Threads of a partials block: four warps, each half-warp one token at a time. */
    public static final int PARTIAL_THREADS = 128;
    /** Threads of a merge block: one warp, each lane owning four of the {@link #HEAD_DIM} dimensions. */
    public static final int MERGE_THREADS = 32;

    public DecodeAttentionShape {
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        if (kvHeads < 1) throw new IllegalArgumentException("kvHeads must be at least 1, got " + kvHeads);
        if (groupSize < 1 || groupSize > MAX_GROUP)
            throw new IllegalArgumentException("groupSize must be in [1, " + MAX_GROUP + "], got " + groupSize);
        if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        if (splits < 1) throw new IllegalArgumentException("splits must be at least 1, got " + splits);
        long blocks = (long) batch * kvHeads * Math.max((long) splits * quads(groupSize), groupSize);
        if (blocks > Integer.MAX_VALUE)
            throw new IllegalArgumentException("batch × kvHeads × splits × ⌈groupSize / 4⌉ must fit a grid of 2^31-1 blocks, got "
                    + blocks);
    }

    /**
     * A split count for {@code batch × kvHeads} (sequence, KV head) pairs of GQA groups of {@code groupSize},
     * whose longest sequence holds {@code longest} tokens, on a GPU where {@code residentBlocks} partials
     * blocks run at once (blocks per SM from the occupancy API × SMs): as many splits as fill one wave of
     * resident blocks, so that every block starts at once and none waits for a second wave, but no more than
     * the longest sequence has tiles, and at least one. On an H100 (132 SMs × 4 blocks) at Llama 3 8B's
     * shape one full wave read K/V at 98-100% of the copy bandwidth where 1.9-2.4 waves read at 82-95%
     * (docs/results/gpu-decode-attention).
     */
    public static int splitsFor(int batch, int kvHeads, int groupSize, long longest, int residentBlocks) {
        if (batch < 1 || kvHeads < 1 || groupSize < 1 || longest < 1 || residentBlocks < 1) {
            throw new IllegalArgumentException("splitsFor needs positive sizes, got batch " + batch + ", kvHeads "
                    + kvHeads + ", groupSize " + groupSize + ", longest " + longest + ", residentBlocks " + residentBlocks);
        }
        long blocksPerSplit = (long) batch * kvHeads * quads(groupSize);
        long tiles = (longest + SplitKvDecode.TILE - 1) / SplitKvDecode.TILE;
        return (int) Math.max(1, Math.min(residentBlocks / blocksPerSplit, tiles));
    }

    /** Partials blocks per (sequence, KV head, split): one per {@link #QUAD} query heads. */
    public int headQuads() {
        return quads(groupSize);
    }

    /** Blocks per split for a group: one per {@link #QUAD} query heads. */
    static int quads(int groupSize) {
        return (groupSize + QUAD - 1) / QUAD;
    }

    public int queryHeads() {
        return kvHeads * groupSize;
    }

    /** Elements of {@code q} and of the merged output. */
    public long queryElements() {
        return (long) batch * queryHeads() * HEAD_DIM;
    }

    /** Elements of the K cache (and of the V cache). */
    public long kvElements() {
        return (long) batch * kvHeads * capacity * HEAD_DIM;
    }

    /** Offset of token {@code token} of (sequence, KV head) in the K and V caches. */
    public long kvOffset(int sequence, int kvHead, long token) {
        return (((long) sequence * kvHeads + kvHead) * capacity + token) * HEAD_DIM;
    }

    /** Elements of the key weights: one per K/V token slot. */
    public long weightElements() {
        return (long) batch * kvHeads * capacity;
    }

    /** Offset of token {@code token}'s weight for (sequence, KV head) in the key weights. */
    public long weightOffset(int sequence, int kvHead, long token) {
        return ((long) sequence * kvHeads + kvHead) * capacity + token;
    }

    /** Number of partial rows: one per (sequence, KV head, split, group member). */
    public long partialRows() {
        return (long) batch * kvHeads * splits * groupSize;
    }

    /** The first kernel's grid: one block per (sequence, KV head, four query heads, split). */
    public Grid partialsGrid() {
        return Grid.of(batch * kvHeads * headQuads() * splits, PARTIAL_THREADS);
    }

    /** The merge kernel's grid: one warp per (sequence, query head). */
    public Grid mergeGrid() {
        return Grid.of(batch * queryHeads(), MERGE_THREADS);
    }
}
