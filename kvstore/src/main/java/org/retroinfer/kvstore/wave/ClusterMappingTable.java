package org.retroinfer.kvstore.wave;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.SequencedSet;
import org.retroinfer.accel.kernel.I32Array;

/**
 * The wave buffer's cluster mapping table for one group (one sequence's KV head in one layer; spec §3.2, the
 * reference's {@code BufferManager}): where each cluster's keys and values live (its first vector in the
 * cluster-ordered host store, its size) and which blocks of the GPU block cache hold it, with LRU over whole
 * clusters. A cluster occupies {@code ⌈size / 8⌉} blocks of {@link #BLOCK} vectors, the last one possibly short.
 *
 * <p>Each decode step {@link #access}es the retrieval zone's clusters in rank order, which says for each one
 * whether the cache holds it (a hit: its blocks) or not (a miss: its vectors in host memory), as the unit lists
 * that {@code ExecutionBufferGather} copies into the execution buffer; clusters past {@code maxUnits} blocks in
 * total are left out (the reference warns and skips them too). {@link #update} then applies LRU with admit-all-misses:
 * the hits become the most recent in rank order, the misses are admitted in rank order while their blocks fit the
 * cache (stopping at the first that does not), whole least-recent clusters are evicted until the admitted fit,
 * and the admitted become the most recent; it returns the block copies {@code CacheAdmission} makes from the
 * execution buffer's miss region. The two halves are separate so that the update can run on the CPU while the GPU
 * gathers and attends (spec §3.3).
 *
 * <p>Not thread-safe: one group's table is used by one thread at a time.
 */
public final class ClusterMappingTable {
    /** Vectors per cache block (2 KB of BF16 K or V at d = 128). */
    public static final int BLOCK = 8;

    private final int capacity;
    private final int maxUnits;
    private final List<Cluster> clusters = new ArrayList<>();
    /** Cached clusters, most recently used first (the reference's MRU-at-front list). */
    private final SequencedSet<Integer> recency = new LinkedHashSet<>();
    /** Free cache blocks, lowest first, so that a run is reproducible. */
    private final BitSet free = new BitSet();
    private long hits, misses;

    /** One cluster: its vectors in the host store, and its cache blocks while cached (else null). */
    private static final class Cluster {
        final long hostStart;
        final int size;
        int[] blocks;

        Cluster(long hostStart, int size) {
            this.hostStart = hostStart;
            this.size = size;
        }

        int units() {
            return (size + BLOCK - 1) / BLOCK;
        }

        int unitSize(int unit) {
            return Math.min(BLOCK, size - unit * BLOCK);
        }
    }

    /**
     * What one step's access found, in rank order: the units to gather, and the clusters {@link #update} needs.
     * Miss offsets count from the start of the execution buffer's miss region, hit offsets from the start of its
     * hit region.
     */
    public record Access(long[] missStarts, int[] missSizes, int[] missOffsets, int[] hitBlocks, int[] hitSizes, int[] hitOffsets,
                         int[] hitClusters, int[] missClusters, int[] missClusterOffsets, int skipped) {}

    /** One block to admit: copy {@code size} vectors from {@code sourceOffset} of the miss region to {@code block}. */
    public record Admission(int[] sourceOffsets, int[] sizes, int[] blocks) {}

    /**
     * @param capacity cache blocks of this group
     * @param maxUnits the most units (blocks) one access gathers: the execution buffer's room beyond the steady zone
     */
    public ClusterMappingTable(int capacity, int maxUnits) {
        if (capacity < 0 || maxUnits < 1) {
            throw new IllegalArgumentException("capacity must be at least 0 and maxUnits at least 1, got " + capacity + " and "
                    + maxUnits);
        }
        this.capacity = capacity;
        this.maxUnits = maxUnits;
        free.set(0, capacity);
    }

    /** Appends a cluster whose {@code size} vectors start at vector {@code hostStart} of the host store; returns its id. */
    public int addCluster(long hostStart, int size) {
        // an empty cluster (k-means can leave one) keeps its id so that ids match the meta index; it is never selected
        if (size < 0 || hostStart < 0) {
            throw new IllegalArgumentException("a cluster needs a size and a start of 0 or more, got " + size + " at " + hostStart);
        }
        clusters.add(new Cluster(hostStart, size));
        return clusters.size() - 1;
    }

    public int clusters() {
        return clusters.size();
    }

    /** The units of the first {@code count} clusters of {@code ranked}, as hits and misses (see the class comment). */
    public Access access(int[] ranked, int count) {
        List<Long> missStarts = new ArrayList<>();
        IntList missSizes = new IntList(), missOffsets = new IntList(), hitBlocks = new IntList(), hitSizes = new IntList(),
                hitOffsets = new IntList(), hitClusters = new IntList(), missClusters = new IntList(), missClusterOffsets = new IntList();
        int units = 0, missAt = 0, hitAt = 0, skipped = 0;
        for (int i = 0; i < count; i++) {
            Cluster c = cluster(ranked[i]);
            if (units + c.units() > maxUnits) {
                skipped = count - i;
                break;
            }
            units += c.units();
            if (c.blocks != null) {
                hitClusters.add(ranked[i]);
                for (int u = 0; u < c.units(); u++) {
                    hitBlocks.add(c.blocks[u]);
                    hitSizes.add(c.unitSize(u));
                    hitOffsets.add(hitAt);
                    hitAt += c.unitSize(u);
                }
            } else {
                missClusters.add(ranked[i]);
                missClusterOffsets.add(missAt);
                for (int u = 0; u < c.units(); u++) {
                    missStarts.add(c.hostStart + (long) u * BLOCK);
                    missSizes.add(c.unitSize(u));
                    missOffsets.add(missAt);
                    missAt += c.unitSize(u);
                }
            }
        }
        hits += hitClusters.size();
        misses += missClusters.size();
        return new Access(missStarts.stream().mapToLong(Long::longValue).toArray(), missSizes.toArray(), missOffsets.toArray(),
                hitBlocks.toArray(), hitSizes.toArray(), hitOffsets.toArray(), hitClusters.toArray(), missClusters.toArray(),
                missClusterOffsets.toArray(), skipped);
    }

    /** LRU with admit-all-misses after {@code access} (see the class comment); returns the blocks to copy in. */
    public Admission update(Access access) {
        int[] hit = access.hitClusters();
        for (int i = hit.length - 1; i >= 0; i--) {
            recency.remove(hit[i]);
            recency.addFirst(hit[i]);
        }
        // admit misses in rank order while their blocks fit the whole cache; stop at the first that does not
        int[] missed = access.missClusters();
        int admitted = 0, needed = 0;
        while (admitted < missed.length && needed + cluster(missed[admitted]).units() <= capacity) {
            needed += cluster(missed[admitted]).units();
            admitted++;
        }
        while (free.cardinality() < needed) {
            evict(recency.removeLast());
        }
        IntList offsets = new IntList(), sizes = new IntList(), blocks = new IntList();
        for (int i = admitted - 1; i >= 0; i--) {
            Cluster c = cluster(missed[i]);
            c.blocks = new int[c.units()];
            int offset = access.missClusterOffsets()[i];
            for (int u = 0; u < c.units(); u++) {
                int block = free.nextSetBit(0);
                free.clear(block);
                c.blocks[u] = block;
                offsets.add(offset);
                sizes.add(c.unitSize(u));
                blocks.add(block);
                offset += c.unitSize(u);
            }
            recency.addFirst(missed[i]);
        }
        return new Admission(offsets.toArray(), sizes.toArray(), blocks.toArray());
    }

    private void evict(int id) {
        Cluster c = clusters.get(id);
        for (int b : c.blocks) {
            free.set(b);
        }
        c.blocks = null;
    }

    private Cluster cluster(int id) {
        if (id < 0 || id >= clusters.size()) {
            throw new IllegalArgumentException("cluster " + id + " is not in this table of " + clusters.size());
        }
        return clusters.get(id);
    }

    /** Whether the cache holds cluster {@code id}. */
    public boolean cached(int id) {
        return cluster(id).blocks != null;
    }

    /** The cache blocks of cluster {@code id}, or an empty array. */
    public int[] blocks(int id) {
        int[] b = cluster(id).blocks;
        return b == null ? new int[0] : b.clone();
    }

    /** Cached clusters, least recently used first. */
    public int[] recency() {
        return recency.reversed().stream().mapToInt(Integer::intValue).toArray();
    }

    public int freeBlocks() {
        return free.cardinality();
    }

    /** Accessed clusters found cached, over every access so far. */
    public long hits() {
        return hits;
    }

    /** Clusters accessed so far. */
    public long accessed() {
        return hits + misses;
    }

    /**
     * Forgets every cluster and frees every block (a slot's next sequence starts afresh); the hit counts go on
     * counting.
     */
    public void clear() {
        clusters.clear();
        recency.clear();
        free.clear();
        free.set(0, capacity);
    }

    /** Clusters found cached over every access so far, as a fraction of clusters accessed. */
    public double hitRatio() {
        return hits + misses == 0 ? 0 : (double) hits / (hits + misses);
    }

    /**
     * Writes {@code access}'s units at {@code [group·maxUnits, ...)} of the gather kernel's arrays and their counts at
     * {@code group}.
     */
    public void writeAccess(Access access, int group, I32Array missStarts, I32Array missSizes, I32Array missOffsets,
            I32Array missCounts, I32Array hitBlocks, I32Array hitSizes, I32Array hitOffsets, I32Array hitCounts) {
        long base = (long) group * maxUnits;
        for (int i = 0; i < access.missSizes().length; i++) {
            missStarts.set(base + i, Math.toIntExact(access.missStarts()[i]));
            missSizes.set(base + i, access.missSizes()[i]);
            missOffsets.set(base + i, access.missOffsets()[i]);
        }
        missCounts.set(group, access.missSizes().length);
        for (int i = 0; i < access.hitSizes().length; i++) {
            hitBlocks.set(base + i, access.hitBlocks()[i]);
            hitSizes.set(base + i, access.hitSizes()[i]);
            hitOffsets.set(base + i, access.hitOffsets()[i]);
        }
        hitCounts.set(group, access.hitSizes().length);
    }

    /** Writes {@code admission}'s blocks at {@code [group·maxUnits, ...)} of the admission kernel's arrays. */
    public void writeAdmission(Admission admission, int group, I32Array sourceOffsets, I32Array sizes, I32Array blocks,
            I32Array counts) {
        long base = (long) group * maxUnits;
        for (int i = 0; i < admission.sizes().length; i++) {
            sourceOffsets.set(base + i, admission.sourceOffsets()[i]);
            sizes.set(base + i, admission.sizes()[i]);
            blocks.set(base + i, admission.blocks()[i]);
        }
        counts.set(group, admission.sizes().length);
    }

    /** A growable int array (the lists of one access). */
    private static final class IntList {
        private int[] values = new int[16];
        private int size;

        void add(int v) {
            if (size == values.length) values = Arrays.copyOf(values, 2 * size);
            values[size++] = v;
        }

        int size() {
            return size;
        }

        int[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}
