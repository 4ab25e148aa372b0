package org.retroinfer.accel.emulator;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The block barrier ({@code bar.sync 0}) with the GPU's rules: it opens when every thread that has not
 * returned has arrived (a returned thread counts as arrived, as in PTX), and all threads must arrive at
 * the same barrier; arriving at different ones is reported instead of silently pairing them up.
 */
final class BlockBarrier {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition opened = lock.newCondition();
    private final String block;
    private final long timeoutNanos;
    private int live;
    private int arrived;
    private long generation;
    private CallSite phaseSite;

    BlockBarrier(String block, int threads, long timeoutNanos) {
        this.block = block;
        this.live = threads;
        this.timeoutNanos = timeoutNanos;
    }

    void await(CallSite site, int thread) {
        lock.lock();
        try {
            if (arrived == 0) {
                phaseSite = site;
            } else if (!site.key().equals(phaseSite.key())) {
                throw new EmulationException(block + ": thread " + thread + " reached the barrier at " + site.display()
                        + " while other threads wait at the barrier at " + phaseSite.display()
                        + "; every thread of a block must reach the same localBarrier() (no barriers in divergent code)");
            }
            arrived++;
            if (arrived == live) {
                open();
                return;
            }
            long gen = generation;
            long remaining = timeoutNanos;
            while (gen == generation) {
                if (remaining <= 0) {
                    throw new EmulationException(block + ": thread " + thread + " waited " + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos)
                            + " s at the barrier at " + site.display() + " for " + (live - arrived)
                            + " threads that never arrived (are they blocked in a warp shuffle?)");
                }
                remaining = opened.awaitNanos(remaining);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmulationException(block + ": interrupted at a barrier", e);
        } finally {
            lock.unlock();
        }
    }

    /** A thread returned: it no longer holds the barrier up. */
    void exit() {
        lock.lock();
        try {
            live--;
            if (arrived > 0 && arrived == live) {
                open();
            }
        } finally {
            lock.unlock();
        }
    }

    private void open() {
        arrived = 0;
        generation++;
        opened.signalAll();
    }
}
