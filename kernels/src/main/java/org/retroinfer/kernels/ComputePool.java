package org.retroinfer.kernels;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The CPU kernels' worker threads: one pool sized to the machine's cores
 * ({@code -Dretroinfer.threads=N} overrides it). Work is split into one contiguous range per
 * thread; a call made from inside a pool thread runs inline, so kernels can nest without
 * deadlock or oversubscription.
 */
public final class ComputePool {
    /** A body of work over the index range [start, end). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    private static final int THREADS = Integer.getInteger("retroinfer.threads",
            Runtime.getRuntime().availableProcessors());
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);
    private static final ExecutorService WORKERS = Executors.newFixedThreadPool(THREADS, runnable -> {
        Thread thread = new Thread(() -> {
            INSIDE.set(true);
            runnable.run();
        }, "retroinfer-compute");
        thread.setDaemon(true);
        return thread;
    });

    private ComputePool() {}

    public static int threads() {
        return THREADS;
    }

    /** Runs {@code body} over [0, n) split across the pool, and waits for every part. */
    public static void forRange(int n, RangeBody body) {
        forRange(n, 1, body);
    }

    /**
     * As {@link #forRange(int, RangeBody)}, with range boundaries on multiples of {@code grain}
     * (except the end), so that no part is smaller than one grain.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        int grains = (n + grain - 1) / grain;
        int parts = Math.min(THREADS, grains);
        if (parts <= 1 || INSIDE.get()) {
            body.run(0, n);
            return;
        }
        CountDownLatch done = new CountDownLatch(parts - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int p = 1; p < parts; p++) {
            int start = (int) ((long) grains * p / parts) * grain;
            int end = Math.min(n, (int) ((long) grains * (p + 1) / parts) * grain);
            WORKERS.execute(() -> {
                try {
                    body.run(start, end);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            });
        }
        INSIDE.set(true);
        try {
            body.run(0, Math.min(n, grains / parts * grain));
        } finally {
            INSIDE.set(false);
        }
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for compute threads", e);
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error err) {
            throw err;
        }
    }
}
