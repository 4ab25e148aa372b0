package org.retroinfer.kvstore.wave;

import java.util.Arrays;
import java.util.BitSet;
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
 * gathers and attends (spec §3.3). {@link #accessInto} and {@link #updateInto} do the same and write the kernels' arrays
 * straight from the table's own lists: they run for every group of every layer at every decode step, and the records'
 * copies were most of a decode's garbage (a young collection every ~0.7 s on the H100 machine at 32K × 28).
 *
 * <p>Not thread-safe: one group's table is used by one thread at a time.
 */
public final class ClusterMappingTable {
    /** Vectors per cache block (2 KB of BF16 K or V at d = 128). */
    public static final int BLOCK = 8;
    private static final int NONE = -1;
    /** {@code firstBlock} of a cached cluster with no vectors (k-means can leave one; only a test selects it). */
    private static final int NO_BLOCKS = -2;

    private final int capacity;
    private final int maxUnits;
    /**
     * The clusters, by id, in primitive arrays: the lookups and LRU updates run for every group of every layer at every
     * decode step, so they box nothing and allocate only their results.
     */
    private long[] hostStarts = new long[64];
    private int[] sizes = new int[64];
    /**
     * A cached cluster's blocks as a chain: its first in {@code firstBlock} (by cluster; {@link #NONE} when not cached,
     * {@link #NO_BLOCKS} when cached and empty),
     * each block's successor in {@code nextBlock} (by block; {@link #NONE} after the last), so that admitting and evicting
     * allocate nothing.
     */
    private int[] firstBlock = new int[64];
    private final int[] nextBlock;
    /** Cached clusters as a doubly linked list through {@code newer}/{@code older}, most recently used at the head. */
    private int[] newer = new int[64], older = new int[64];
    private int count, head = NONE, tail = NONE;
    /** Free cache blocks, lowest first, so that a run is reproducible. */
    private final BitSet free = new BitSet();
    private int freeCount;
    /**
     * No block below it is free: the search for the lowest free block starts here, not at 0 (at 1M tokens a step admits
     * ~2,000 blocks a group into a cache of ~6,400, and the scans from 0 were a quarter of a profile of lookups and
     * updates).
     */
    private int freeFrom;
    private long hits, misses;
    /** The lists one access builds, reused. */
    private final LongList missStartList = new LongList();
    private final IntList missSizeList = new IntList(), missOffsetList = new IntList(), hitBlockList = new IntList(),
            hitSizeList = new IntList(), hitOffsetList = new IntList(), hitClusterList = new IntList(),
            missClusterList = new IntList(), missClusterOffsetList = new IntList();
    private final IntList[] accessLists = {missSizeList, missOffsetList, hitBlockList, hitSizeList, hitOffsetList, hitClusterList,
            missClusterList, missClusterOffsetList};
    private int skipped;
    /** What {@link #preload} read, kept only so that the JIT keeps its loads. */
    private int preloaded;
    /** The lists one update builds, reused. */
    private final IntList admitOffsetList = new IntList(), admitSizeList = new IntList(), admitBlockList = new IntList();

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
        this.nextBlock = new int[capacity];
        free.set(0, capacity);
        freeCount = capacity;
    }

    /** Appends a cluster whose {@code size} vectors start at vector {@code hostStart} of the host store; returns its id. */
    public int addCluster(long hostStart, int size) {
        // an empty cluster (k-means can leave one) keeps its id so that ids match the meta index; it is never selected
        if (size < 0 || hostStart < 0) {
            throw new IllegalArgumentException("a cluster needs a size and a start of 0 or more, got " + size + " at " + hostStart);
        }
        if (count == sizes.length) {
            int n = 2 * count;
            hostStarts = Arrays.copyOf(hostStarts, n);
            sizes = Arrays.copyOf(sizes, n);
            firstBlock = Arrays.copyOf(firstBlock, n);
            newer = Arrays.copyOf(newer, n);
            older = Arrays.copyOf(older, n);
        }
        hostStarts[count] = hostStart;
        sizes[count] = size;
        firstBlock[count] = NONE;
        return count++;
    }

    public int clusters() {
        return count;
    }

    private int units(int id) {
        return (sizes[id] + BLOCK - 1) / BLOCK;
    }

    private int unitSize(int id, int unit) {
        return Math.min(BLOCK, sizes[id] - unit * BLOCK);
    }

    /** The units of the first {@code count} clusters of {@code ranked}, as hits and misses (see the class comment). */
    public Access access(int[] ranked, int count) {
        scan(ranked, count);
        return new Access(missStartList.toArray(), missSizeList.toArray(), missOffsetList.toArray(), hitBlockList.toArray(),
                hitSizeList.toArray(), hitOffsetList.toArray(), hitClusterList.toArray(), missClusterList.toArray(),
                missClusterOffsetList.toArray(), skipped);
    }

    /**
     * {@link #access} and {@link #writeAccess} in one, without the record: the units go from the table's lists to the
     * arrays, and the table keeps what {@link #updateInto} needs until then.
     */
    public void accessInto(int[] ranked, int count, int group, I32Array missStarts, I32Array missSizes, I32Array missOffsets,
            I32Array missCounts, I32Array hitBlocks, I32Array hitSizes, I32Array hitOffsets, I32Array hitCounts) {
        scan(ranked, count);
        long base = (long) group * maxUnits;
        int missUnits = missSizeList.size, hitUnits = hitSizeList.size;
        writeStarts(missStartList.values, missUnits, missStarts, base);
        write(missSizeList.values, missUnits, missSizes, base);
        write(missOffsetList.values, missUnits, missOffsets, base);
        missCounts.set(group, missUnits);
        write(hitBlockList.values, hitUnits, hitBlocks, base);
        write(hitSizeList.values, hitUnits, hitSizes, base);
        write(hitOffsetList.values, hitUnits, hitOffsets, base);
        hitCounts.set(group, hitUnits);
    }

    /** Fills the access lists with the units of the first {@code count} clusters of {@code ranked}. */
    private void scan(int[] ranked, int count) {
        missStartList.clear();
        for (IntList l : accessLists) {
            l.clear();
        }
        int units = 0, missAt = 0, hitAt = 0;
        skipped = 0;
        preload(ranked, count);
        for (int i = 0; i < count; i++) {
            int id = check(ranked[i]);
            int n = units(id);
            if (units + n > maxUnits) {
                skipped = count - i;
                break;
            }
            units += n;
            if (firstBlock[id] != NONE) {
                hitClusterList.add(id);
                for (int u = 0, b = firstBlock[id]; u < n; u++, b = nextBlock[b]) {
                    hitBlockList.add(b);
                    hitSizeList.add(unitSize(id, u));
                    hitOffsetList.add(hitAt);
                    hitAt += unitSize(id, u);
                }
            } else {
                missClusterList.add(id);
                missClusterOffsetList.add(missAt);
                for (int u = 0; u < n; u++) {
                    missStartList.add(hostStarts[id] + (long) u * BLOCK);
                    missSizeList.add(unitSize(id, u));
                    missOffsetList.add(missAt);
                    missAt += unitSize(id, u);
                }
            }
        }
        hits += hitClusterList.size;
        misses += missClusterList.size;
    }

    /** LRU with admit-all-misses after {@code access} (see the class comment); returns the blocks to copy in. */
    public Admission update(Access access) {
        admit(access.hitClusters(), access.hitClusters().length, access.missClusters(), access.missClusters().length,
                access.missClusterOffsets());
        return new Admission(admitOffsetList.toArray(), admitSizeList.toArray(), admitBlockList.toArray());
    }

    /**
     * {@link #update} after the last {@link #accessInto} and {@link #writeAdmission} in one, from the table's own lists.
     */
    public void updateInto(int group, I32Array sourceOffsets, I32Array sizesOut, I32Array blocksOut, I32Array counts) {
        admit(hitClusterList.values, hitClusterList.size, missClusterList.values, missClusterList.size,
                missClusterOffsetList.values);
        long base = (long) group * maxUnits;
        int n = admitSizeList.size;
        write(admitOffsetList.values, n, sourceOffsets, base);
        write(admitSizeList.values, n, sizesOut, base);
        write(admitBlockList.values, n, blocksOut, base);
        counts.set(group, n);
    }

    /** The LRU update of an access's first {@code hitCount} hits and {@code missCount} misses, into the admission lists. */
    private void admit(int[] hit, int hitCount, int[] missed, int missCount, int[] missClusterOffsets) {
        admitOffsetList.clear();
        admitSizeList.clear();
        admitBlockList.clear();
        preloadLinks(hit, hitCount);
        preloadLinks(missed, missCount);
        for (int i = hitCount - 1; i >= 0; i--) {
            unlink(hit[i]);
            pushFront(hit[i]);
        }
        // admit misses in rank order while their blocks fit the whole cache; stop at the first that does not
        int admitted = 0, needed = 0;
        while (admitted < missCount && needed + units(missed[admitted]) <= capacity) {
            needed += units(missed[admitted]);
            admitted++;
        }
        while (freeCount < needed) {
            int victim = tail;
            unlink(victim);
            evict(victim);
        }
        for (int i = admitted - 1; i >= 0; i--) {
            int id = missed[i];
            int n = units(id);
            int offset = missClusterOffsets[i], previous = NONE;
            firstBlock[id] = NO_BLOCKS;
            for (int u = 0; u < n; u++) {
                int block = free.nextSetBit(freeFrom);
                free.clear(block);
                freeCount--;
                freeFrom = block + 1;
                if (previous == NONE) {
                    firstBlock[id] = block;
                } else {
                    nextBlock[previous] = block;
                }
                previous = block;
                admitOffsetList.add(offset);
                admitSizeList.add(unitSize(id, u));
                admitBlockList.add(block);
                offset += unitSize(id, u);
            }
            if (previous != NONE) {
                nextBlock[previous] = NONE;
            }
            pushFront(id);
        }
    }

    /**
     * Reads the entries of the first {@code n} clusters of {@code ids} that {@link #scan} uses, before it uses them. At
     * 1M tokens a group's tables are megabytes and nearly every entry a retrieval zone reads misses the cache: in this
     * loop of independent loads the core keeps many misses in flight, where the scan's loop, with its branches and
     * appends, waited for them about one at a time. Ids out of range are left to the scan's check.
     */
    private void preload(int[] ids, int n) {
        int sum = 0;
        for (int i = 0; i < n; i++) {
            int id = ids[i];
            if (id >= 0 && id < count) {
                sum += sizes[id] + firstBlock[id] + (int) hostStarts[id];
            }
        }
        preloaded = sum;
    }

    /** {@link #preload} of the LRU links {@link #admit} moves, for the first {@code n} of {@code ids} (ids it has checked). */
    private void preloadLinks(int[] ids, int n) {
        int sum = 0;
        for (int i = 0; i < n; i++) {
            sum += newer[ids[i]] + older[ids[i]];
        }
        preloaded += sum;
    }

    private void pushFront(int id) {
        older[id] = head;
        newer[id] = NONE;
        if (head != NONE) newer[head] = id;
        head = id;
        if (tail == NONE) tail = id;
    }

    private void unlink(int id) {
        if (newer[id] != NONE) older[newer[id]] = older[id];
        else head = older[id];
        if (older[id] != NONE) newer[older[id]] = newer[id];
        else tail = newer[id];
    }

    private void evict(int id) {
        for (int b = firstBlock[id]; b >= 0; b = nextBlock[b]) {
            free.set(b);
            freeCount++;
            freeFrom = Math.min(freeFrom, b);
        }
        firstBlock[id] = NONE;
    }

    private int check(int id) {
        if (id < 0 || id >= count) {
            throw new IllegalArgumentException("cluster " + id + " is not in this table of " + count);
        }
        return id;
    }

    /** Whether the cache holds cluster {@code id}. */
    public boolean cached(int id) {
        return firstBlock[check(id)] != NONE;
    }

    /** The cache blocks of cluster {@code id}, or an empty array. */
    public int[] blocks(int id) {
        IntList out = new IntList();
        for (int b = firstBlock[check(id)]; b >= 0; b = nextBlock[b]) out.add(b);
        return out.toArray();
    }

    /** Cached clusters, least recently used first. */
    public int[] recency() {
        IntList out = new IntList();
        for (int id = tail; id != NONE; id = newer[id]) out.add(id);
        return out.toArray();
    }

    public int freeBlocks() {
        return freeCount;
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
        count = 0;
        head = tail = NONE;
        free.clear();
        free.set(0, capacity);
        freeCount = capacity;
        freeFrom = 0;
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
        int missUnits = access.missSizes().length, hitUnits = access.hitSizes().length;
        writeStarts(access.missStarts(), missUnits, missStarts, base);
        write(access.missSizes(), missUnits, missSizes, base);
        write(access.missOffsets(), missUnits, missOffsets, base);
        missCounts.set(group, missUnits);
        write(access.hitBlocks(), hitUnits, hitBlocks, base);
        write(access.hitSizes(), hitUnits, hitSizes, base);
        write(access.hitOffsets(), hitUnits, hitOffsets, base);
        hitCounts.set(group, hitUnits);
    }

    /** Writes {@code admission}'s blocks at {@code [group·maxUnits, ...)} of the admission kernel's arrays. */
    public void writeAdmission(Admission admission, int group, I32Array sourceOffsets, I32Array sizes, I32Array blocks,
            I32Array counts) {
        long base = (long) group * maxUnits;
        int n = admission.sizes().length;
        write(admission.sourceOffsets(), n, sourceOffsets, base);
        write(admission.sizes(), n, sizes, base);
        write(admission.blocks(), n, blocks, base);
        counts.set(group, n);
    }

    /** Writes the first {@code n} of {@code values} at {@code [base, base + n)} of {@code out}. */
    private static void write(int[] values, int n, I32Array out, long base) {
        for (int i = 0; i < n; i++) {
            out.set(base + i, values[i]);
        }
    }

    /** {@link #write} for the misses' host-store starts, which the gather kernel reads as ints. */
    private static void writeStarts(long[] starts, int n, I32Array out, long base) {
        for (int i = 0; i < n; i++) {
            out.set(base + i, Math.toIntExact(starts[i]));
        }
    }

    /** A growable int array (the lists of one access), cleared and reused. */
    private static final class IntList {
        private int[] values = new int[16];
        private int size;

        void add(int v) {
            if (size == values.length) values = Arrays.copyOf(values, 2 * size);
            values[size++] = v;
        }

        void clear() {
            size = 0;
        }

        int[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }

    /** {@link IntList} of longs. */
    private static final class LongList {
        private long[] values = new long[16];
        private int size;

        void add(long v) {
            if (size == values.length) values = Arrays.copyOf(values, 2 * size);
            values[size++] = v;
        }

        void clear() {
            size = 0;
        }

        long[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}
