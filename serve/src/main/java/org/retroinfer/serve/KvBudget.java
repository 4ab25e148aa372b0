package org.retroinfer.serve;

import org.retroinfer.kvstore.KvCache;

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
        if (cache.sequenceBytesBound(1, 1) < 0) {
            throw new IllegalArgumentException("no memory bound for a " + cache.getClass().getSimpleName());
        }
        this.cache = cache;
        this.limit = limit;
    }

    /** The most bytes a sequence of this prompt and at most this many new tokens holds ({@link KvCache#sequenceBytesBound}). */
    long bytesFor(int promptTokens, int maxTokens) {
        return cache.sequenceBytesBound(promptTokens, maxTokens);
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
