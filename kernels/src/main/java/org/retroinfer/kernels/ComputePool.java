package org.retroinfer.kernels;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
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

    private static final int THREADS = threadCount();
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);
    private static final AtomicInteger STARTED = new AtomicInteger();
    private static final ExecutorService WORKERS = Executors.newFixedThreadPool(THREADS, runnable -> {
        Thread thread = new Thread(() -> {
            INSIDE.set(true);
            runnable.run();
        }, "retroinfer-compute-" + STARTED.incrementAndGet());
        thread.setDaemon(true);
        return thread;
    });

    private ComputePool() {}

    private static int threadCount() {
        int threads = Integer.getInteger("retroinfer.threads", Runtime.getRuntime().availableProcessors());
        if (threads < 1) {
            throw new IllegalStateException("-Dretroinfer.threads must be at least 1, got " + threads);
        }
        return threads;
    }

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
        if (n < 0 || grain < 1) {
            throw new IllegalArgumentException("forRange needs n >= 0 and grain >= 1, got n = " + n + ", grain = " + grain);
        }
        int grains = (int) (((long) n + grain - 1) / grain);
        int parts = Math.min(THREADS, grains);
        if (parts <= 1 || INSIDE.get()) {
            body.run(0, n);
            return;
        }
        CountDownLatch done = new CountDownLatch(parts - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int p = 1; p < parts; p++) {
            int start = (int) ((long) grains * p / parts * grain);
            int end = (int) Math.min(n, (long) grains * (p + 1) / parts * grain);
            WORKERS.execute(() -> {
                try {
                    body.run(start, end);
                } catch (Throwable t) {
                    record(failure, t);
                } finally {
                    done.countDown();
                }
            });
        }
        INSIDE.set(true);
        try {
            body.run(0, (int) Math.min(n, (long) grains / parts * grain));
        } catch (Throwable t) {
            record(failure, t);
        } finally {
            INSIDE.set(false);
        }
        // Wait for every part even when one failed: the caller must not see its arrays still being
        // written after forRange returns or throws.
        awaitUninterruptibly(done);
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        if (t != null) {
            throw new IllegalStateException("a compute thread failed", t);
        }
    }

    /** Keeps the first failure and attaches later ones to it as suppressed exceptions. */
    private static void record(AtomicReference<Throwable> failure, Throwable t) {
        if (!failure.compareAndSet(null, t) && failure.get() != t) {
            failure.get().addSuppressed(t);
        }
    }

    private static void awaitUninterruptibly(CountDownLatch done) {
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
