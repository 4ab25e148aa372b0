package org.retroinfer.kvstore.wave;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.retroinfer.accel.device.EmulatedDevice;
import org.retroinfer.accel.kernel.I32Array;

/**
 * The mapping tables on the GPU (kernels on the emulator) against the host's {@link ClusterMappingTable}s, step after
 * step on random tables and retrieval zones: the same unit lists, admission copies, recency, blocks and counts. The
 * zones come in random order (the selection kernel's) and hold empty clusters and clusters of many blocks, so the
 * steps hit, miss, leave clusters past the unit cap out, evict and admit.
 */
class DeviceMappingTablesTest {
    /**
     * Small tables, and large ones whose steps admit more than a warp of clusters, evict more than a warp of victims
     * and rank more than a warp of free-block words at once (the update kernel's rounds); zones of up to 512 ids are
     * ordered by comparisons, longer ones through a bit set of the group's clusters ({@link org.retroinfer.kernels.gpu.ClusterLookup#longZones}),
     * and in a group of more clusters than the bit set holds (past 2M-token contexts) by comparisons again.
     */
    @ParameterizedTest(name = "{0} groups, {1} cache blocks, {2} units, {3} ids, {4} clusters of up to {7} vectors mostly")
    @CsvSource({"3, 40, 14, 40, 70, 40, 25, 24", "2, 1200, 500, 500, 1500, 12, 500, 8", "2, 1200, 500, 600, 1500, 12, 500, 8",
            "1, 60, 30, 600, 131100, 8, 40, 24"})
    void lookupsAndUpdatesOnTheGpuMakeTheHostTablesDecisionsStepAfterStep(int groups, int cacheBlocks, int maxUnits,
            int ranked, int maxClusters, int steps, int laterPool, int commonSize) {
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        Random random = new Random(seed);
        String replay = " (seed " + seed + ", replay with -Dretroinfer.test.seed=" + seed + ")";
        try (EmulatedDevice device = new EmulatedDevice();
             DeviceMappingTables gpu = new DeviceMappingTables(device, groups, maxClusters, cacheBlocks, maxUnits, ranked)) {
            ClusterMappingTable[] host = new ClusterMappingTable[groups];
            for (int g = 0; g < groups; g++) {
                host[g] = new ClusterMappingTable(cacheBlocks, maxUnits);
                int n = 20 + random.nextInt(maxClusters - 20);
                int[] starts = new int[n], sizes = new int[n];
                for (int c = 0, start = 0; c < n; start += sizes[c], c++) {
                    // mostly around the spec's 16 vectors; some empty (k-means can leave one), some of several blocks
                    sizes[c] = random.nextInt(10) == 0 ? 0 : random.nextInt(8) == 0 ? 30 + random.nextInt(40) : 1 + random.nextInt(commonSize);
                    starts[c] = start;
                    host[g].addCluster(start, sizes[c]);
                }
                gpu.addClusters(g, 0, starts, sizes);
            }
            long units = (long) groups * maxUnits;
            String[] unitNames = {"miss starts", "miss sizes", "miss offsets", "hit blocks", "hit sizes", "hit offsets"};
            for (int step = 0; step < steps; step++) {
                I32Array ids = device.i32((long) groups * ranked), counts = device.i32(groups);
                int[][] ascending = new int[groups][];
                for (int g = 0; g < groups; g++) {
                    List<Integer> all = new ArrayList<>();
                    for (int c = 0; c < host[g].clusters(); c++) all.add(c);
                    // later steps draw from the same few clusters, so that more of them are cached
                    if (step < steps / 2) {
                        Collections.shuffle(all, random);
                    }
                    int pool = step < steps / 2 ? all.size() : Math.min(all.size(), laterPool);
                    List<Integer> zone = new ArrayList<>(all.subList(0, pool));
                    Collections.shuffle(zone, random);
                    int n = random.nextInt(Math.min(ranked, zone.size()) + 1);
                    for (int i = 0; i < n; i++) ids.set((long) g * ranked + i, zone.get(i));
                    counts.set(g, n);
                    ascending[g] = zone.subList(0, n).stream().mapToInt(Integer::intValue).sorted().toArray();
                }
                I32Array[] expected = poisoned(device, 6, units), actual = poisoned(device, 6, units);
                I32Array expectedCounts = poisoned(device, 2, groups)[0], actualCounts = poisoned(device, 2, groups)[0];
                I32Array expectedHitCounts = poisoned(device, 1, groups)[0], actualHitCounts = poisoned(device, 1, groups)[0];
                for (int g = 0; g < groups; g++) {
                    host[g].accessInto(ascending[g], ascending[g].length, g, expected[0], expected[1], expected[2], expectedCounts,
                            expected[3], expected[4], expected[5], expectedHitCounts);
                }
                gpu.lookUp(ids, ranked, counts, actual[0], actual[1], actual[2], actualCounts, actual[3], actual[4], actual[5],
                        actualHitCounts);
                for (int g = 0; g < groups; g++) {
                    String where = "step " + step + ", group " + g + replay;
                    int missUnits = expectedCounts.get(g), hitUnits = expectedHitCounts.get(g);
                    assertEquals(missUnits, actualCounts.get(g), "miss units, " + where);
                    assertEquals(hitUnits, actualHitCounts.get(g), "hit units, " + where);
                    for (int list = 0; list < 6; list++) {
                        int n = list < 3 ? missUnits : hitUnits;
                        assertArrayEquals(slice(expected[list], g, n, maxUnits), slice(actual[list], g, n, maxUnits), unitNames[list] + ", " + where);
                    }
                }
                I32Array[] expectedAdmit = poisoned(device, 4, units), actualAdmit = poisoned(device, 4, units);
                for (int g = 0; g < groups; g++) {
                    host[g].updateInto(g, expectedAdmit[0], expectedAdmit[1], expectedAdmit[2], expectedAdmit[3]);
                }
                gpu.update(actualAdmit[0], actualAdmit[1], actualAdmit[2], actualAdmit[3]);
                for (int g = 0; g < groups; g++) {
                    String where = "step " + step + ", group " + g + replay;
                    int n = expectedAdmit[3].get(g);
                    assertEquals(n, actualAdmit[3].get(g), "admission copies, " + where);
                    for (int list = 0; list < 3; list++) {
                        assertArrayEquals(slice(expectedAdmit[list], g, n, maxUnits), slice(actualAdmit[list], g, n, maxUnits),
                                "admission list " + list + ", " + where);
                    }
                    assertArrayEquals(host[g].recency(), gpu.recency(g), "recency, " + where);
                    assertEquals(host[g].freeBlocks(), gpu.freeBlocks(g), "free blocks, " + where);
                    for (int id : host[g].recency()) {
                        assertArrayEquals(host[g].blocks(id), gpu.blocks(g, id), "blocks of cluster " + id + ", " + where);
                    }
                }
                long hits = 0, accessed = 0;
                for (ClusterMappingTable t : host) {
                    hits += t.hits();
                    accessed += t.accessed();
                }
                assertArrayEquals(new long[] {hits, accessed}, gpu.hitCounts(), "hits and lookups, step " + step + replay);
            }
            long[] counts = gpu.hitCounts();
            assertTrue(counts[0] > 0 && counts[0] < counts[1], "the steps both hit and missed: " + counts[0] + " of " + counts[1]);
        }
    }

    @Test
    void aClearedGroupForgetsItsClustersAndFreesItsBlocks() {
        try (EmulatedDevice device = new EmulatedDevice();
             DeviceMappingTables gpu = new DeviceMappingTables(device, 1, 4, 8, 8, 4)) {
            gpu.addClusters(0, 0, new int[] {0, 16}, new int[] {16, 9});
            I32Array ids = device.i32(4), counts = device.i32(1);
            ids.set(0, 1);
            ids.set(1, 0);
            counts.set(0, 2);
            I32Array[] lists = poisoned(device, 6, 8), admission = poisoned(device, 4, 8);
            I32Array missCounts = device.i32(1), hitCounts = device.i32(1);
            gpu.lookUp(ids, 4, counts, lists[0], lists[1], lists[2], missCounts, lists[3], lists[4], lists[5], hitCounts);
            gpu.update(admission[0], admission[1], admission[2], admission[3]);
            assertEquals(4, missCounts.get(0), "two blocks of 16 and two of 9 vectors");
            assertArrayEquals(new int[] {1, 0}, gpu.recency(0), "cluster 0 ranks first, so it is the most recent");
            assertEquals(4, gpu.freeBlocks(0));
            gpu.clear(0);
            assertArrayEquals(new int[0], gpu.recency(0));
            assertEquals(8, gpu.freeBlocks(0));
            assertArrayEquals(new int[0], gpu.blocks(0, 0));
        }
    }

    private static I32Array[] poisoned(EmulatedDevice device, int n, long length) {
        I32Array[] arrays = new I32Array[n];
        for (int i = 0; i < n; i++) {
            arrays[i] = device.i32(length);
            device.fill(arrays[i], (byte) 0xEF);
        }
        return arrays;
    }

    private static int[] slice(I32Array a, int group, int n, int maxUnits) {
        int[] out = new int[n];
        MemorySegment.copy(a.segment(), java.lang.foreign.ValueLayout.JAVA_INT, (long) group * maxUnits * Integer.BYTES, out, 0,
                n);
        return out;
    }
}
