package org.retroinfer.kvstore.retro;

import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.DType;

/**
 * Every knob of RetroInfer attention (spec §2.1, §4.4), with the paper's defaults.
 *
 * @param retrievalBudget  fraction of clusters attended exactly each decode step (spec r = 0.018)
 * @param estimationBudget fraction of clusters estimated from centroid, value sum and size (e = 0.232);
 *                         0 turns estimation off
 * @param sinks            first positions of a sequence always attended exactly (4)
 * @param window           last prompt positions kept in the steady zone (64)
 * @param clusterSize      average keys per cluster of the prompt's index (16)
 * @param segmentTokens    tokens per segment of the segmented k-means (8192)
 * @param updateSegment    generated tokens clustered and added to the index at once (1024)
 * @param iterations       k-means iterations, the last of them the global pass (10)
 * @param threads          parts that index building and decode attention split into, at most
 *                         the compute pool's threads (default: all of them)
 * @param storage          storage type of keys, values, centroids and value sums: F16 or BF16
 * @param pageTokens       positions per page of the prompt store (keys and values before the index)
 */
public record RetroConfig(double retrievalBudget, double estimationBudget, int sinks, int window, int clusterSize,
                          int segmentTokens, int updateSegment, int iterations, int threads, DType storage,
                          int pageTokens) {
    public RetroConfig {
        if (!(retrievalBudget > 0 && retrievalBudget <= 1)) {
            throw new IllegalArgumentException("retrievalBudget must be in (0, 1], got " + retrievalBudget);
        }
        if (!(estimationBudget >= 0 && estimationBudget <= 1)) {
            throw new IllegalArgumentException("estimationBudget must be in [0, 1], got " + estimationBudget);
        }
        if (sinks < 0 || sinks > 1 << 16) {
            throw new IllegalArgumentException("sinks must be in [0, 65536], got " + sinks);
        }
        if (window < 0 || window > 1 << 16) {
            throw new IllegalArgumentException("window must be in [0, 65536], got " + window);
        }
        if (clusterSize < 1 || clusterSize > 1 << 16) {
            throw new IllegalArgumentException("clusterSize must be in [1, 65536], got " + clusterSize);
        }
        if (segmentTokens < clusterSize || segmentTokens > 1 << 24) {
            throw new IllegalArgumentException("segmentTokens must be in [clusterSize = " + clusterSize + ", 16777216], got "
                    + segmentTokens);
        }
        // The update clusters max(round(updateSegment / clusterSize) / 8 · 8, 8) keys at once (spec
        // §1.4), so it needs at least 8 of them.
        if (updateSegment < 8 || updateSegment > 1 << 20) {
            throw new IllegalArgumentException("updateSegment must be in [8, 1048576], got " + updateSegment);
        }
        if (iterations < 1 || iterations > 1000) {
            throw new IllegalArgumentException("iterations must be in [1, 1000], got " + iterations);
        }
        if (threads < 1 || threads > ComputePool.threads()) {
            throw new IllegalArgumentException("threads must be in [1, " + ComputePool.threads()
                    + "] (the compute pool's size, -Dretroinfer.threads), got " + threads);
        }
        if (storage != DType.F16 && storage != DType.BF16) {
            throw new IllegalArgumentException("storage must be F16 or BF16, got " + storage);
        }
        if (pageTokens < 1 || pageTokens > 1 << 16) {
            throw new IllegalArgumentException("pageTokens must be in [1, 65536], got " + pageTokens);
        }
    }

    /** The paper's defaults, stored as F16, on every compute thread. */
    public static RetroConfig defaults() {
        return new RetroConfig(0.018, 0.232, 4, 64, 16, 8192, 1024, 10, ComputePool.threads(), DType.F16, 256);
    }

    public RetroConfig withBudgets(double retrieval, double estimation) {
        return new RetroConfig(retrieval, estimation, sinks, window, clusterSize, segmentTokens, updateSegment, iterations,
                threads, storage, pageTokens);
    }

    public RetroConfig withStorage(DType type) {
        return new RetroConfig(retrievalBudget, estimationBudget, sinks, window, clusterSize, segmentTokens, updateSegment,
                iterations, threads, type, pageTokens);
    }

    public RetroConfig withSteadyZone(int sinkCount, int windowTokens, int updateTokens) {
        return new RetroConfig(retrievalBudget, estimationBudget, sinkCount, windowTokens, clusterSize, segmentTokens,
                updateTokens, iterations, threads, storage, pageTokens);
    }

    /** This configuration with clusters of {@code size} keys on average (spec §4.4's pages_per_cluster × 8). */
    public RetroConfig withClusterSize(int size) {
        return new RetroConfig(retrievalBudget, estimationBudget, sinks, window, size, segmentTokens, updateSegment,
                iterations, threads, storage, pageTokens);
    }

    public RetroConfig withThreads(int count) {
        return new RetroConfig(retrievalBudget, estimationBudget, sinks, window, clusterSize, segmentTokens, updateSegment,
                iterations, count, storage, pageTokens);
    }

    /** Positions the steady zone holds at most: sinks, the window and one update segment (spec §1.4). */
    public int steadyCapacity() {
        return sinks + window + updateSegment;
    }
}
