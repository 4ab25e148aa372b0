package org.retroinfer.serve;

import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.kvstore.gpu.GpuKvCache;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.kvstore.retro.RetroKvCache;

/**
 * The KV memory the running sequences may hold together. Each admitted sequence reserves the
 * most its cache can make it hold (prompt plus every token it may generate), so the cache never
 * holds more than the limit, however the running sequences grow. Used by the scheduler thread
 * only; {@link #reserved()} may be read from any thread.
 */
final class KvBudget {
    private final KvCache cache;
    private final long limit;
    private volatile long reserved;

    KvBudget(KvCache cache, long limit) {
        if (!(cache instanceof DenseKvCache) && !(cache instanceof RetroKvCache) && !(cache instanceof GpuKvCache)) {
            throw new IllegalArgumentException("no memory bound for a " + cache.getClass().getSimpleName());
        }
        this.cache = cache;
        this.limit = limit;
    }

    /** The most bytes a sequence of this prompt and at most this many new tokens holds. */
    long bytesFor(int promptTokens, int maxTokens) {
        return switch (cache) {
            case DenseKvCache dense -> dense.sequenceBytes((long) promptTokens + maxTokens);
            case RetroKvCache retro -> retro.sequenceBytesBound(promptTokens, maxTokens);
            // a GPU sequence holds a whole slot of the cache's capacity, whatever its length
            case GpuKvCache gpu -> GpuKvCache.bytesPerSequence(gpu.shape(), gpu.storage(), gpu.capacity());
            default -> throw new IllegalStateException("checked in the constructor");
        };
    }

    long limit() {
        return limit;
    }

    long reserved() {
        return reserved;
    }

    /** Reserves {@code bytes} if they fit beside the reservations held. */
    boolean tryReserve(long bytes) {
        if (reserved + bytes > limit) {
            return false;
        }
        reserved += bytes;
        return true;
    }

    void release(long bytes) {
        reserved -= bytes;
    }
}
