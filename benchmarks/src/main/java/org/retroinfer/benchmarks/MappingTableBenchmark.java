package org.retroinfer.benchmarks;

import java.lang.foreign.Arena;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.kvstore.wave.ClusterMappingTable;

/**
 * The host half of one RetroInfer decode layer on the GPU, on one thread: every group's lookup of its retrieval zone
 * in its {@link ClusterMappingTable} and the LRU update after it, with the kernels' unit and admission lists written
 * out, at the sizes of a 32K context (2,048 clusters of ~16 vectors, 37 retrieved, a cache of 5% of the vectors) for
 * {@value #GROUPS} groups (28 sequences × 8 KV heads), random retrieval zones as in the random-weight bench. {@code
 * path}: {@code records} through the {@code Access}/{@code Admission} records and {@code writeAccess}/{@code
 * writeAdmission}, {@code direct} through {@code accessInto}/{@code updateInto} (what the wave buffer uses); with
 * {@code -prof gc}, {@code gc.alloc.rate.norm} is the garbage of one layer.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {BenchmarkJvm.VECTOR_API, BenchmarkJvm.NATIVE_ACCESS, BenchmarkJvm.GC})
public class MappingTableBenchmark {
    static final int GROUPS = 224;
    private static final int CLUSTERS = 2048, RETRIEVED = 37, MAX_UNITS = 4 * RETRIEVED * 2, ZONES = 64;

    @Param({"records", "direct"})
    public String path;

    private Arena arena;
    private ClusterMappingTable[] tables;
    private int[][][] zones;
    private int step;
    private I32Array missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets, hitCounts;
    private I32Array admitOffsets, admitSizes, admitBlocks, admitCounts;

    @Setup
    public void build() {
        Random random = new Random(1);
        tables = new ClusterMappingTable[GROUPS];
        int cacheBlocks = CLUSTERS * 16 / 20 / ClusterMappingTable.BLOCK;
        for (int g = 0; g < GROUPS; g++) {
            tables[g] = new ClusterMappingTable(cacheBlocks, MAX_UNITS);
            for (int c = 0, at = 0; c < CLUSTERS; c++) {
                int size = 10 + random.nextInt(13);
                tables[g].addCluster(at, size);
                at += size;
            }
        }
        zones = new int[ZONES][GROUPS][];
        for (int[][] zone : zones) {
            for (int g = 0; g < GROUPS; g++) {
                zone[g] = random.ints(0, CLUSTERS).distinct().limit(RETRIEVED).sorted().toArray();
            }
        }
        arena = Arena.ofShared();
        long units = (long) GROUPS * MAX_UNITS;
        missStarts = I32Array.allocate(arena, units);
        missSizes = I32Array.allocate(arena, units);
        missOffsets = I32Array.allocate(arena, units);
        missCounts = I32Array.allocate(arena, GROUPS);
        hitBlocks = I32Array.allocate(arena, units);
        hitSizes = I32Array.allocate(arena, units);
        hitOffsets = I32Array.allocate(arena, units);
        hitCounts = I32Array.allocate(arena, GROUPS);
        admitOffsets = I32Array.allocate(arena, units);
        admitSizes = I32Array.allocate(arena, units);
        admitBlocks = I32Array.allocate(arena, units);
        admitCounts = I32Array.allocate(arena, GROUPS);
    }

    @TearDown
    public void free() {
        arena.close();
    }

    /** One layer: every group's lookup, then every group's LRU update. */
    @Benchmark
    public int layer() {
        int[][] zone = zones[step++ % ZONES];
        if (path.equals("records")) {
            ClusterMappingTable.Access[] accesses = new ClusterMappingTable.Access[GROUPS];
            for (int g = 0; g < GROUPS; g++) {
                accesses[g] = tables[g].access(zone[g], RETRIEVED);
                tables[g].writeAccess(accesses[g], g, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets,
                        hitCounts);
            }
            for (int g = 0; g < GROUPS; g++) {
                tables[g].writeAdmission(tables[g].update(accesses[g]), g, admitOffsets, admitSizes, admitBlocks, admitCounts);
            }
        } else {
            for (int g = 0; g < GROUPS; g++) {
                tables[g].accessInto(zone[g], RETRIEVED, g, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes,
                        hitOffsets, hitCounts);
            }
            for (int g = 0; g < GROUPS; g++) {
                tables[g].updateInto(g, admitOffsets, admitSizes, admitBlocks, admitCounts);
            }
        }
        return admitCounts.get(0) + missCounts.get(GROUPS - 1);
    }
}
