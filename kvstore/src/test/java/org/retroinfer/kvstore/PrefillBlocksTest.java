package org.retroinfer.kvstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.DType;

class PrefillBlocksTest {
    private static float[] random(Random random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    @Test
    void everyRowOfEveryBlockedEntryIsWrittenTheSameWhateverTheThreads() {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        AttentionShape shape = new AttentionShape(1, 8, 2, 64);
        int[] lengths = {300, 45, 130};
        int[] counts = {100, 1, 77};
        boolean[] blocked = {true, false, true};
        try (Arena arena = Arena.ofShared()) {
            KvPages[] pages = new KvPages[lengths.length];
            long[] visible = new long[lengths.length];
            for (int i = 0; i < lengths.length; i++) {
                pages[i] = new KvPages(shape.kvHeads(), shape.headDim(), DType.BF16, 32, arena);
                for (int t = 0; t < lengths[i]; t++) {
                    pages[i].append(random(random, shape.kvWidth()), random(random, shape.kvWidth()), 0);
                }
                visible[i] = lengths[i];
            }
            BatchLayout batch = new BatchLayout(new int[] {0, 1, 2}, counts);
            float[] queries = random(random, batch.rows() * shape.queryWidth());
            PrefillBlocks.KeySource keys = (entry, kvHead, firstRow, block) ->
                    pages[entry].attend(kvHead, lengths[entry] - counts[entry] + firstRow + 1, block);
            float[] alone = new float[queries.length];
            float[] shared = new float[queries.length];
            Arrays.fill(alone, Float.NaN);
            Arrays.fill(shared, Float.NaN);
            PrefillBlocks.attend(shape, batch, blocked, visible, queries, alone, 1, keys);
            PrefillBlocks.attend(shape, batch, blocked, visible, queries, shared, ComputePool.threads(), keys);
            assertArrayEquals(alone, shared, "the blocks' outputs do not depend on which thread ran them");
            int width = shape.queryWidth();
            for (int row = 0; row < batch.rows(); row++) {
                boolean skipped = row == counts[0];
                for (int j = row * width; j < (row + 1) * width; j++) {
                    assertTrue(Float.isNaN(shared[j]) == skipped, (skipped ? "the single-row entry was written"
                            : "row " + row + " was not written") + " at " + j);
                }
            }
        }
    }
}
