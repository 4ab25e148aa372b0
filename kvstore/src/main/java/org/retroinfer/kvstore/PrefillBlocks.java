package org.retroinfer.kvstore;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.PrefillAttention;

/**
 * Prefill attention in blocks of consecutive query rows ({@link PrefillAttention}): the rows of
 * each prefill entry of a batch are cut into blocks of up to {@link PrefillAttention#MAX_SUB_BLOCKS}
 * sub-blocks, and each (block, KV head) is one task that reads and converts the keys and values
 * its rows see once for all of them.
 *
 * <p>Causal blocks differ in cost: a block sees every earlier position, so the first blocks of a
 * prompt's first chunk are short and its last ones long. Tasks are therefore taken from a shared
 * counter, longest first (the classic longest-processing-time rule), rather than cut into one
 * contiguous range per thread, which would give one thread all the long blocks.
 */
public final class PrefillBlocks {
    /** Folds the keys and values an entry's block of rows sees into the started block. */
    @FunctionalInterface
    public interface KeySource {
        /**
         * @param entry    the batch entry
         * @param kvHead   the KV head
         * @param firstRow the block's first row within the entry's rows (0 for the entry's first)
         * @param block    the block, begun with its queries; {@link PrefillAttention#rows()} rows
         */
        void fold(int entry, int kvHead, int firstRow, PrefillAttention block);
    }

    private static final int INDEX_BITS = 31;

    private PrefillBlocks() {}

    /**
     * Rows per block: as many sub-blocks as {@link PrefillAttention#MAX_SUB_BLOCKS} while that
     * leaves at least two tasks per thread, fewer (down to one) where the batch is too small to
     * keep every thread busy with blocks that large.
     */
    private static int rowsPerBlock(BatchLayout batch, boolean[] blocked, int subRows, int kvHeads, int parts) {
        long subBlocks = 0;
        for (int i = 0; i < batch.size(); i++) {
            subBlocks += blocked[i] ? (long) (batch.count(i) + subRows - 1) / subRows * kvHeads : 0;
        }
        long share = Math.clamp(subBlocks / (2L * parts), 1, PrefillAttention.MAX_SUB_BLOCKS);
        return (int) share * subRows;
    }

    private static int blockCount(BatchLayout batch, boolean[] blocked, int perBlock) {
        int blocks = 0;
        for (int i = 0; i < batch.size(); i++) {
            blocks += blocked[i] ? (batch.count(i) + perBlock - 1) / perBlock : 0;
        }
        return blocks;
    }

    /**
     * Writes the attention outputs of every row of the entries with {@code blocked[i]}, in up to
     * {@code parts} threads; {@code queries} and {@code out} are laid out as
     * {@link KvCache#attend} says. {@code visible[i]} is the number of positions entry i's last
     * row sees, which orders the work; {@code keys} supplies the keys themselves.
     */
    public static void attend(AttentionShape shape, BatchLayout batch, boolean[] blocked, long[] visible,
                              float[] queries, float[] out, int parts, KeySource keys) {
        int kvHeads = shape.kvHeads();
        int group = shape.groupSize();
        int d = shape.headDim();
        int width = shape.queryWidth();
        int perBlock = rowsPerBlock(batch, blocked, PrefillAttention.rowsPerSubBlock(group), kvHeads, parts);
        int blocks = blockCount(batch, blocked, perBlock);
        int[] entryOf = new int[blocks];
        int[] firstRowOf = new int[blocks];
        int[] rowsOf = new int[blocks];
        // Longest first: the cost of a block is its rows times the positions its last row sees,
        // in the high bits of a key whose low bits are the block's index.
        long[] order = new long[blocks];
        for (int i = 0, b = 0; i < batch.size(); i++) {
            for (int first = 0; blocked[i] && first < batch.count(i); first += perBlock, b++) {
                int rows = Math.min(perBlock, batch.count(i) - first);
                entryOf[b] = i;
                firstRowOf[b] = first;
                rowsOf[b] = rows;
                long seen = visible[i] - batch.count(i) + first + rows;
                long cost = Math.min((long) rows * seen, (1L << (63 - INDEX_BITS)) - 1);
                order[b] = cost << INDEX_BITS | b;
            }
        }
        Arrays.sort(order);
        int tasks = blocks * kvHeads;
        int[] batchRowOf = new int[batch.size()];
        for (int i = 1; i < batch.size(); i++) {
            batchRowOf[i] = batchRowOf[i - 1] + batch.count(i - 1);
        }
        AtomicInteger next = new AtomicInteger();
        ComputePool.forRange(Math.min(parts, tasks), (start, end) -> {
            PrefillAttention block = PrefillAttention.forThread();
            for (int task = next.getAndIncrement(); task < tasks; task = next.getAndIncrement()) {
                int b = (int) (order[blocks - 1 - task / kvHeads] & ((1L << INDEX_BITS) - 1));
                int kvHead = task % kvHeads;
                int entry = entryOf[b];
                int qOff = (batchRowOf[entry] + firstRowOf[b]) * width + kvHead * group * d;
                block.begin(queries, qOff, width, rowsOf[b], group, d, shape.scale());
                keys.fold(entry, kvHead, firstRowOf[b], block);
                block.finish(out, qOff, width);
            }
        });
    }
}
