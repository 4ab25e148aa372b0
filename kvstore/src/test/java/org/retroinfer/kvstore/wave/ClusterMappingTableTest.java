package org.retroinfer.kvstore.wave;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.kernels.gpu.WaveBufferCopyTwin;

/**
 * The mapping table's hit and miss lists, its LRU with admit-all-misses, and (through the copy kernels' CPU twins)
 * that what it tells the GPU to copy puts every retrieved cluster's own vectors into the execution buffer, from host
 * memory or from the cache, step after step.
 */
class ClusterMappingTableTest {
    /** Ints per vector: 128 16-bit values, as the copy kernels move them. */
    private static final int INTS = 64;

    @Test
    void writingStraightFromTheTableGivesTheRecordsArraysStepAfterStep() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        int clusters = 60, maxUnits = 40, group = 1;
        ClusterMappingTable viaRecords = new ClusterMappingTable(30, maxUnits), direct = new ClusterMappingTable(30, maxUnits);
        for (int c = 0, at = 0; c < clusters; c++) {
            int size = random.nextInt(25); // empty clusters and clusters of up to four blocks
            viaRecords.addCluster(at, size);
            direct.addCluster(at, size);
            at += size;
        }
        try (Arena arena = Arena.ofConfined()) {
            I32Array[] expected = new I32Array[12], actual = new I32Array[12];
            for (int i = 0; i < 12; i++) {
                long length = i == 3 || i == 7 || i == 11 ? 2 : 2L * maxUnits; // the counts, then the lists
                expected[i] = filled(arena, length, -1);
                actual[i] = filled(arena, length, -1);
            }
            for (int step = 0; step < 40; step++) {
                int[] ranked = random.ints(0, clusters).distinct().limit(1 + random.nextInt(12)).sorted().toArray();
                ClusterMappingTable.Access a = viaRecords.access(ranked, ranked.length);
                viaRecords.writeAccess(a, group, expected[0], expected[1], expected[2], expected[3], expected[4], expected[5],
                        expected[6], expected[7]);
                viaRecords.writeAdmission(viaRecords.update(a), group, expected[8], expected[9], expected[10], expected[11]);
                direct.accessInto(ranked, ranked.length, group, actual[0], actual[1], actual[2], actual[3], actual[4], actual[5],
                        actual[6], actual[7]);
                direct.updateInto(group, actual[8], actual[9], actual[10], actual[11]);
                for (int i = 0; i < 12; i++) {
                    for (long j = 0; j < expected[i].length(); j++) {
                        assertEquals(expected[i].get(j), actual[i].get(j), "step " + step + ", array " + i + "[" + j + "] (seed " + seed + ")");
                    }
                }
                assertArrayEquals(viaRecords.recency(), direct.recency(), "step " + step + " (seed " + seed + ")");
                for (int c = 0; c < clusters; c++) {
                    assertArrayEquals(viaRecords.blocks(c), direct.blocks(c), "cluster " + c + ", step " + step);
                }
            }
            assertEquals(viaRecords.hitRatio(), direct.hitRatio());
            assertTrue(viaRecords.hitRatio() > 0, "the steps hit the cache (seed " + seed + ")");
        }
    }

    @Test
    void aFirstAccessMissesEverythingInRankOrderAndAdmitsWhatFits() {
        ClusterMappingTable t = new ClusterMappingTable(5, 100);
        t.addCluster(0, 19); // 3 blocks: 8, 8, 3
        t.addCluster(19, 8); // 1 block
        t.addCluster(27, 20); // 3 blocks
        ClusterMappingTable.Access a = t.access(new int[] {2, 0, 1}, 3);
        assertArrayEquals(new long[] {27, 35, 43, 0, 8, 16, 19}, a.missStarts());
        assertArrayEquals(new int[] {8, 8, 4, 8, 8, 3, 8}, a.missSizes());
        assertArrayEquals(new int[] {0, 8, 16, 20, 28, 36, 39}, a.missOffsets());
        assertEquals(0, a.hitSizes().length);
        ClusterMappingTable.Admission admitted = t.update(a);
        // cluster 2 (3 blocks) fits, cluster 0 (3 more) does not: admission stops there, though cluster 1 would fit
        assertTrue(t.cached(2));
        assertFalse(t.cached(0));
        assertFalse(t.cached(1));
        assertArrayEquals(new int[] {0, 8, 16}, admitted.sourceOffsets());
        assertArrayEquals(new int[] {8, 8, 4}, admitted.sizes());
        assertArrayEquals(new int[] {0, 1, 2}, admitted.blocks());
        assertEquals(2, t.freeBlocks());
    }

    @Test
    void hitsComeFromTheCacheAndLeastRecentClustersAreEvictedWhole() {
        ClusterMappingTable t = new ClusterMappingTable(4, 100);
        for (int c = 0; c < 4; c++) t.addCluster(8L * c, c == 3 ? 16 : 8); // clusters 0-2: 1 block; 3: 2 blocks
        t.update(t.access(new int[] {0, 1}, 2));
        t.update(t.access(new int[] {2}, 1));
        assertArrayEquals(new int[] {1, 0, 2}, t.recency()); // least recent first: rank order kept at the front
        ClusterMappingTable.Access a = t.access(new int[] {0, 3}, 2);
        assertArrayEquals(new int[] {0}, a.hitClusters());
        assertArrayEquals(new int[] {t.blocks(0)[0]}, a.hitBlocks());
        assertArrayEquals(new int[] {3}, a.missClusters());
        t.update(a);
        // cluster 3 needs 2 blocks, 1 is free: the least recent, cluster 1, goes
        assertFalse(t.cached(1));
        assertTrue(t.cached(3) && t.cached(0) && t.cached(2));
        assertArrayEquals(new int[] {2, 0, 3}, t.recency());
        assertEquals(0.2, t.hitRatio(), 1e-12); // 1 hit of the 5 clusters accessed
    }

    @Test
    void clustersBeyondTheBuffersUnitsAreSkipped() {
        ClusterMappingTable t = new ClusterMappingTable(8, 4);
        t.addCluster(0, 16);
        t.addCluster(16, 17); // 3 blocks: would make 5
        t.addCluster(33, 8);
        ClusterMappingTable.Access a = t.access(new int[] {0, 1, 2}, 3);
        assertArrayEquals(new int[] {0}, a.missClusters());
        assertEquals(2, a.skipped());
    }

    /**
     * Random steps over two groups: each step's execution buffer, assembled by the gather twin from the unit lists
     * (a steady zone, misses from the host store, hits from the cache the admission twin filled), holds exactly the
     * ranked clusters' vectors, misses first, and the cache never gives a block to two clusters.
     */
    @Test
    void whatTheTableNamesIsWhatTheClustersHold() {
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println("mapping table: seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        Random random = new Random(seed);
        int groups = 2, clusters = 40, maxUnits = 24, cacheBlocks = 20, steady = 3, steadyStride = 4;
        int execStride = steadyStride + ClusterMappingTable.BLOCK * maxUnits;
        try (Arena arena = Arena.ofConfined()) {
            List<ClusterMappingTable> tables = new ArrayList<>();
            List<int[]> sizes = new ArrayList<>();
            int listStride = 0;
            for (int g = 0; g < groups; g++) {
                ClusterMappingTable t = new ClusterMappingTable(cacheBlocks, maxUnits);
                int[] s = new int[clusters];
                long at = 0;
                for (int c = 0; c < clusters; c++) {
                    s[c] = 1 + random.nextInt(20);
                    t.addCluster(at, s[c]);
                    at += s[c];
                }
                listStride = Math.max(listStride, (int) at);
                tables.add(t);
                sizes.add(s);
            }
            I32Array listK = I32Array.allocate(arena, (long) groups * listStride * INTS);
            I32Array listV = I32Array.allocate(arena, (long) groups * listStride * INTS);
            for (long i = 0; i < listK.length(); i++) {
                listK.set(i, (int) i);
                listV.set(i, (int) ~i);
            }
            I32Array steadyK = filled(arena, (long) groups * steadyStride * INTS, -7), steadyV = filled(arena, (long) groups * steadyStride * INTS, -8);
            I32Array steadyLengths = I32Array.of(arena, steady, steady);
            I32Array cacheK = filled(arena, (long) groups * cacheBlocks * 8 * INTS, 0), cacheV = filled(arena, (long) groups * cacheBlocks * 8 * INTS, 0);
            I32Array missStarts = I32Array.allocate(arena, (long) groups * maxUnits), missSizes = I32Array.allocate(arena, (long) groups * maxUnits);
            I32Array missOffsets = I32Array.allocate(arena, (long) groups * maxUnits), missCounts = I32Array.allocate(arena, groups);
            I32Array hitBlocks = I32Array.allocate(arena, (long) groups * maxUnits), hitSizes = I32Array.allocate(arena, (long) groups * maxUnits);
            I32Array hitOffsets = I32Array.allocate(arena, (long) groups * maxUnits), hitCounts = I32Array.allocate(arena, groups);
            I32Array admitOffsets = I32Array.allocate(arena, (long) groups * maxUnits), admitSizes = I32Array.allocate(arena, (long) groups * maxUnits);
            I32Array admitBlocks = I32Array.allocate(arena, (long) groups * maxUnits), admitCounts = I32Array.allocate(arena, groups);
            I32Array execK = I32Array.allocate(arena, (long) groups * execStride * INTS), execV = I32Array.allocate(arena, (long) groups * execStride * INTS);
            I32Array valid = I32Array.allocate(arena, groups);
            int hitsSeen = 0;
            for (int step = 0; step < 60; step++) {
                List<ClusterMappingTable.Access> accesses = new ArrayList<>();
                for (int g = 0; g < groups; g++) {
                    // a skewed ranking, so that some clusters come back often and hit
                    int hot = 4 + step % 12;
                    int[] ranked = random.ints(0, clusters).map(c -> c % hot).distinct().limit(Math.min(6, hot)).toArray();
                    ClusterMappingTable.Access a = tables.get(g).access(ranked, ranked.length);
                    tables.get(g).writeAccess(a, g, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets,
                            hitCounts);
                    accesses.add(a);
                    hitsSeen += a.hitClusters().length;
                }
                execK.segment().fill((byte) 0x5A);
                WaveBufferCopyTwin.gather(groups, steadyK, steadyV, steadyLengths, steadyStride, listK, listV, listStride, cacheK,
                        cacheV, cacheBlocks, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets,
                        hitCounts, maxUnits, execK, execV, execStride, valid);
                for (int g = 0; g < groups; g++) {
                    ClusterMappingTable.Access a = accesses.get(g);
                    List<Integer> order = new ArrayList<>();
                    for (int c : a.missClusters()) order.add(c);
                    for (int c : a.hitClusters()) order.add(c);
                    long row = (long) g * execStride + steady;
                    for (int c : order) {
                        long start = hostStart(sizes.get(g), c);
                        for (int v = 0; v < sizes.get(g)[c]; v++, row++) {
                            long expected = ((long) g * listStride + start + v) * INTS;
                            assertEquals((int) expected, execK.get(row * INTS), "step " + step + " group " + g + " cluster " + c
                                    + " vector " + v);
                            assertEquals((int) ~(expected + INTS - 1), execV.get(row * INTS + INTS - 1));
                        }
                    }
                    assertEquals(row - (long) g * execStride, valid.get(g), "valid length");
                    ClusterMappingTable.Admission admitted = tables.get(g).update(a);
                    tables.get(g).writeAdmission(admitted, g, admitOffsets, admitSizes, admitBlocks, admitCounts);
                }
                WaveBufferCopyTwin.admit(groups, execK, execV, execStride, steadyLengths, admitOffsets, admitSizes, admitBlocks,
                        admitCounts, maxUnits, cacheK, cacheV, cacheBlocks);
                for (ClusterMappingTable t : tables) {
                    Set<Integer> used = new HashSet<>();
                    for (int c = 0; c < clusters; c++) {
                        for (int b : t.blocks(c)) assertTrue(used.add(b), "block " + b + " given twice");
                    }
                    assertEquals(cacheBlocks, used.size() + t.freeBlocks(), "blocks used + free");
                }
            }
            assertTrue(hitsSeen > 20, "the skewed rankings hit the cache (" + hitsSeen + " hits)");
        }
    }

    private static long hostStart(int[] sizes, int cluster) {
        long at = 0;
        for (int c = 0; c < cluster; c++) at += sizes[c];
        return at;
    }

    private static I32Array filled(Arena arena, long n, int value) {
        I32Array a = I32Array.allocate(arena, n);
        for (long i = 0; i < n; i++) a.set(i, value);
        return a;
    }
}
