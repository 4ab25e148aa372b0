package org.retroinfer.kvstore.retro;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The wave index of one (sequence, layer): per KV head, the clusters of every position that left
 * the steady zone (spec §1.1–§1.4), with centroid, value sum and size per cluster and the members
 * stored cluster-contiguously. It grows by one {@link ClusterBatch} per head at a time (the
 * prompt's build, then one per update segment); cluster ids run across batches, batch b holding
 * ids [base(b), base(b) + clusters of b). The zone budgets grow with it.
 */
final class WaveIndex {
    private final int kvHeads;
    private final List<List<ClusterBatch>> batches = new ArrayList<>();
    private int[] bases = new int[0];
    private int clusters;
    private long tokens;
    private ZoneBudget budget = ZoneBudget.NONE;

    WaveIndex(int kvHeads) {
        this.kvHeads = kvHeads;
        for (int h = 0; h < kvHeads; h++) {
            batches.add(new ArrayList<>());
        }
    }

    /** Clusters per KV head. */
    int clusters() {
        return clusters;
    }

    /** Positions held, per KV head. */
    long tokens() {
        return tokens;
    }

    ZoneBudget budget() {
        return budget;
    }

    int batchCount() {
        return bases.length;
    }

    ClusterBatch batch(int kvHead, int b) {
        return batches.get(kvHead).get(b);
    }

    /** The first cluster id of batch {@code b}. */
    int base(int b) {
        return bases[b];
    }

    /** The batch holding cluster id {@code cluster}. */
    int batchOf(int cluster) {
        int b = Arrays.binarySearch(bases, cluster);
        return b >= 0 ? b : -b - 2;
    }

    /**
     * Adds one batch per KV head, all clustering the same positions into the same number of
     * clusters, and grows the budgets (spec §1.4).
     */
    void add(ClusterBatch[] perHead, RetroConfig config) {
        if (perHead.length != kvHeads) {
            throw new IllegalArgumentException("an index grows by one batch per KV head (" + kvHeads + "), got "
                    + perHead.length);
        }
        int added = perHead[0].clusters();
        int members = perHead[0].tokens();
        for (ClusterBatch b : perHead) {
            if (b.clusters() != added || b.tokens() != members) {
                throw new IllegalArgumentException("the KV heads' batches differ: " + b.clusters() + " clusters of "
                        + b.tokens() + " positions against " + added + " of " + members);
            }
        }
        for (int h = 0; h < kvHeads; h++) {
            batches.get(h).add(perHead[h]);
        }
        bases = Arrays.copyOf(bases, bases.length + 1);
        bases[bases.length - 1] = clusters;
        clusters += added;
        tokens += members;
        budget = budget.grownBy(added, config);
    }

    /** Bytes of the batches, and of the per-cluster sizes and starts kept on the heap. */
    long bytes() {
        long total = 0;
        for (List<ClusterBatch> head : batches) {
            for (ClusterBatch b : head) {
                total += ClusterBatch.bytes(b.tokens(), b.clusters(), b.headDim()) + 8L * b.clusters();
            }
        }
        return total;
    }
}
