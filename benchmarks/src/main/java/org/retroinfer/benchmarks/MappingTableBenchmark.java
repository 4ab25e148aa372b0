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
 * out, a cache of 5% of the vectors and random retrieval zones as in the random-weight bench. {@code shape}: {@code 32k}
 * is a 32K context (2,048 clusters of ~16 vectors, 37 retrieved) for 224 groups (28 sequences × 8 KV heads); {@code 1m}
 * a 1M-token one (64,000 clusters, 1,152 retrieved) for 32 groups (4 sequences × 8 KV heads), whose tables are
 * megabytes a group. {@code path}: {@code records} through the {@code Access}/{@code Admission} records and {@code
 * writeAccess}/{@code writeAdmission}, {@code direct} through {@code accessInto}/{@code updateInto} (what the wave buffer
 * uses); with {@code -prof gc}, {@code gc.alloc.rate.norm} is the garbage of one layer.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {BenchmarkJvm.VECTOR_API, BenchmarkJvm.NATIVE_ACCESS, BenchmarkJvm.GC})
public class MappingTableBenchmark {
    private static final int ZONES = 64;

    /** Groups, clusters a group and clusters retrieved, by {@code shape}. */
    record Shape(int groups, int clusters, int retrieved) {
        static Shape of(String name) {
            return switch (name) {
                case "32k" -> new Shape(224, 2048, 37);
                case "1m" -> new Shape(32, 64000, 1152);
                default -> throw new IllegalArgumentException("shape must be 32k or 1m, got " + name);
            };
        }

        String describe() {
            return groups + " groups x " + retrieved + " of " + clusters + " clusters";
        }
    }

    @Param({"32k", "1m"})
    public String shape;

    @Param({"records", "direct"})
    public String path;

    private int groups, retrieved;
    private Arena arena;
    private ClusterMappingTable[] tables;
    private int[][][] zones;
    private int step;
    private I32Array missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets, hitCounts;
    private I32Array admitOffsets, admitSizes, admitBlocks, admitCounts;

    @Setup
    public void build() {
        Shape sizes = Shape.of(shape);
        groups = sizes.groups();
        retrieved = sizes.retrieved();
        int clusters = sizes.clusters(), maxUnits = 4 * retrieved * 2;
        Random random = new Random(1);
        tables = new ClusterMappingTable[groups];
        int cacheBlocks = clusters * 16 / 20 / ClusterMappingTable.BLOCK;
        for (int g = 0; g < groups; g++) {
            tables[g] = new ClusterMappingTable(cacheBlocks, maxUnits);
            for (int c = 0, at = 0; c < clusters; c++) {
                int size = 10 + random.nextInt(13);
                tables[g].addCluster(at, size);
                at += size;
            }
        }
        zones = new int[ZONES][groups][];
        for (int[][] zone : zones) {
            for (int g = 0; g < groups; g++) {
                zone[g] = random.ints(0, clusters).distinct().limit(retrieved).sorted().toArray();
            }
        }
        arena = Arena.ofShared();
        long units = (long) groups * maxUnits;
        missStarts = I32Array.allocate(arena, units);
        missSizes = I32Array.allocate(arena, units);
        missOffsets = I32Array.allocate(arena, units);
        missCounts = I32Array.allocate(arena, groups);
        hitBlocks = I32Array.allocate(arena, units);
        hitSizes = I32Array.allocate(arena, units);
        hitOffsets = I32Array.allocate(arena, units);
        hitCounts = I32Array.allocate(arena, groups);
        admitOffsets = I32Array.allocate(arena, units);
        admitSizes = I32Array.allocate(arena, units);
        admitBlocks = I32Array.allocate(arena, units);
        admitCounts = I32Array.allocate(arena, groups);
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
            ClusterMappingTable.Access[] accesses = new ClusterMappingTable.Access[groups];
            for (int g = 0; g < groups; g++) {
                accesses[g] = tables[g].access(zone[g], retrieved);
                tables[g].writeAccess(accesses[g], g, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes, hitOffsets,
                        hitCounts);
            }
            for (int g = 0; g < groups; g++) {
                tables[g].writeAdmission(tables[g].update(accesses[g]), g, admitOffsets, admitSizes, admitBlocks, admitCounts);
            }
        } else {
            for (int g = 0; g < groups; g++) {
                tables[g].accessInto(zone[g], retrieved, g, missStarts, missSizes, missOffsets, missCounts, hitBlocks, hitSizes,
                        hitOffsets, hitCounts);
            }
            for (int g = 0; g < groups; g++) {
                tables[g].updateInto(g, admitOffsets, admitSizes, admitBlocks, admitCounts);
            }
        }
        return admitCounts.get(0) + missCounts.get(groups - 1);
    }
}
