package org.retroinfer.kvstore.wave;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.device.EmulatedDevice;

/**
 * The wave buffer on the emulated device, through the real gather and admission kernels: after each assembly every
 * group's execution buffer holds its steady zone, then its ranked clusters' own vectors (misses, then hits), step after
 * step while the cache fills and evicts.
 */
class WaveBufferTest {
    @Test
    void eachAssemblyHoldsTheSteadyZoneThenTheRankedClustersVectors() {
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println("wave buffer: seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        Random random = new Random(seed);
        int groups = 2, clusters = 24, steadyStride = 6, cacheBlocks = 10, maxUnits = 12, ints = WaveBuffer.INTS;
        List<int[]> sizes = new ArrayList<>();
        int listStride = 0;
        for (int g = 0; g < groups; g++) {
            int[] s = random.ints(clusters, 1, 14).toArray();
            sizes.add(s);
            listStride = Math.max(listStride, java.util.Arrays.stream(s).sum());
        }
        try (EmulatedDevice device = new EmulatedDevice();
             WaveBuffer buffer = new WaveBuffer(device, groups, steadyStride, listStride, cacheBlocks, maxUnits)) {
            for (int g = 0; g < groups; g++) {
                long at = 0;
                for (int c = 0; c < clusters; c++) {
                    buffer.table(g).addCluster(at, sizes.get(g)[c]);
                    at += sizes.get(g)[c];
                }
                buffer.steadyLength(g, 2 + g);
            }
            for (long i = 0; i < buffer.hostKeys().length(); i++) {
                buffer.hostKeys().set(i, (int) i);
                buffer.hostValues().set(i, (int) ~i);
            }
            for (long i = 0; i < buffer.steadyKeys().length(); i++) {
                buffer.steadyKeys().set(i, -1 - (int) i);
                buffer.steadyValues().set(i, (int) i << 8);
            }
            int hits = 0;
            for (int step = 0; step < 8; step++) {
                int[][] ranked = new int[groups][];
                int[] counts = new int[groups];
                for (int g = 0; g < groups; g++) {
                    ranked[g] = random.ints(0, 6).distinct().limit(4).toArray(); // a few hot clusters, so that some hit
                    counts[g] = ranked[g].length;
                }
                buffer.assemble(ranked, counts);
                for (int g = 0; g < groups; g++) {
                    long base = (long) g * buffer.executionStride();
                    int steady = 2 + g;
                    for (int v = 0; v < steady; v++) {
                        assertEquals(-1 - (int) (((long) g * steadyStride + v) * ints), buffer.executionKeys().get((base + v) * ints),
                                "steady vector " + v);
                    }
                    long row = base + steady;
                    ClusterMappingTable.Access a = lastAccess(buffer, g, ranked[g], counts[g]);
                    List<Integer> order = new ArrayList<>();
                    for (int c : a.missClusters()) order.add(c);
                    for (int c : a.hitClusters()) order.add(c);
                    hits += a.hitClusters().length;
                    for (int c : order) {
                        long start = 0;
                        for (int d = 0; d < c; d++) start += sizes.get(g)[d];
                        for (int v = 0; v < sizes.get(g)[c]; v++, row++) {
                            long expected = ((long) g * listStride + start + v) * ints;
                            assertEquals((int) expected, buffer.executionKeys().get(row * ints + 0), "step " + step + " group " + g
                                    + " cluster " + c + " vector " + v + " key");
                            assertEquals((int) ~(expected + 5), buffer.executionValues().get(row * ints + 5), "value");
                        }
                    }
                    assertEquals(row - base, buffer.validLengths().get(g), "valid length of group " + g);
                }
                buffer.admit();
            }
            assertTrue(hits > 0, "some clusters came back from the cache");
        }
    }

    /** The hits and misses of the ranked clusters as the table saw them before the update that follows. */
    private static ClusterMappingTable.Access lastAccess(WaveBuffer buffer, int group, int[] ranked, int count) {
        ClusterMappingTable t = buffer.table(group);
        List<Integer> hit = new ArrayList<>(), miss = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            (t.cached(ranked[i]) ? hit : miss).add(ranked[i]);
        }
        return new ClusterMappingTable.Access(null, null, null, null, null, null, hit.stream().mapToInt(Integer::intValue).toArray(),
                miss.stream().mapToInt(Integer::intValue).toArray(), null, 0);
    }
}
