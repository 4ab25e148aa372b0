package org.retroinfer.accel.emulator;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The block barrier ({@code bar.sync 0}) with the GPU's rules: it opens when every thread that has not
 * returned has arrived (a returned thread counts as arrived, as in PTX), and all threads must arrive at
 * the same barrier; arriving at different ones is reported instead of silently pairing them up.
 *
 * <p>Waits are untimed (a timed park costs a virtual thread a timer for every barrier of every thread); the block's
 * {@link BlockRun} watches for threads that wait while nothing moves, and {@link #stall()} says where they wait.
 */
final class BlockBarrier {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition opened = lock.newCondition();
    private final String block;
    private int live;
    private int arrived;
    private long generation;
    private CallSite phaseSite;

    BlockBarrier(String block, int threads) {
        this.block = block;
        this.live = threads;
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
            while (gen == generation) {
                opened.await();
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

    /** How often the barrier opened or a thread returned: a block whose count stands still makes no progress here. */
    long progress() {
        lock.lock();
        try {
            return generation - live; // both an opening and a return raise it
        } finally {
            lock.unlock();
        }
    }

    /** Where threads wait and for how many, or null when none waits. */
    String stall() {
        lock.lock();
        try {
            return arrived == 0 ? null : arrived + " threads wait at the barrier at " + phaseSite.display() + " for "
                    + (live - arrived) + " that never arrived (are they blocked in a warp shuffle?)";
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
