package org.retroinfer.accel.emulator;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.retroinfer.accel.kernel.KernelContext;
import org.retroinfer.accel.kernel.ShuffleMode;

/**
 * One warp's {@code shfl.sync} with a full mask: all 32 lanes deposit a value at the same shuffle, then
 * each reads the value of its source lane. A warp with fewer than 32 live lanes (a partial last warp, or
 * lanes that returned) or lanes at different shuffles is an error, because on the GPU the result is
 * undefined. Waits are untimed, as in {@link BlockBarrier}: {@link BlockRun} reports a warp that waits while nothing
 * moves ({@link #stall()}).
 */
final class WarpExchange {
    private static final int LANES = KernelContext.WARP_SIZE;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition done = lock.newCondition();
    private final String warp;
    private final int[] inputs = new int[LANES];
    private final int[] args = new int[LANES];
    private int[] results = new int[LANES];
    private final int[][] deposits = new int[LANES][];
    private int[] gathered;
    private int live;
    private int arrived;
    private long generation;
    private CallSite phaseSite;
    private String failure;

    WarpExchange(String warp, int lanes) {
        this.warp = warp;
        this.live = lanes;
    }

    int exchange(int lane, CallSite site, ShuffleMode mode, int value, int laneOrDelta) {
        lock.lock();
        try {
            arrive(lane, site);
            inputs[lane] = value;
            args[lane] = laneOrDelta;
            arrived++;
            if (arrived == live) {
                results = shuffle(mode);
                complete();
                return results[lane];
            }
            await();
            return results[lane];
        } finally {
            lock.unlock();
        }
    }

    /** Every lane's {@code values} (the same length in each), lane l's at {@code [l·n, (l + 1)·n)}. */
    int[] gather(int lane, CallSite site, int[] values) {
        lock.lock();
        try {
            arrive(lane, site);
            deposits[lane] = values;
            arrived++;
            if (arrived == live) {
                int n = values.length;
                int[] all = new int[LANES * n];
                for (int l = 0; l < LANES; l++) {
                    if (deposits[l].length != n) {
                        throw fail(warp + ": lanes gathered " + deposits[l].length + " and " + n + " values at "
                                + site.display());
                    }
                    System.arraycopy(deposits[l], 0, all, l * n, n);
                }
                gathered = all;
                complete();
                return all;
            }
            await();
            return gathered;
        } finally {
            lock.unlock();
        }
    }

    /** Checks that lane {@code lane} may join the exchange at {@code site}; the caller holds the lock. */
    private void arrive(int lane, CallSite site) {
        if (failure != null) {
            throw new EmulationException(failure);
        }
        if (live < LANES) {
            throw fail(warp + ": warp shuffle at " + site.display() + " with only " + live + " of " + LANES
                    + " lanes active; shuffles use a full mask, so the block size must be a multiple of 32 and no"
                    + " lane may return before the shuffle");
        }
        if (arrived == 0) {
            phaseSite = site;
        } else if (!site.key().equals(phaseSite.key())) {
            throw fail(warp + ": lane " + lane + " reached the shuffle at " + site.display()
                    + " while other lanes wait at the shuffle at " + phaseSite.display()
                    + "; all 32 lanes of a warp must execute the same shuffle");
        }
    }

    /** The last lane arrived: the results are out; wake the others. */
    private void complete() {
        arrived = 0;
        generation++;
        done.signalAll();
    }

    /** Waits (holding the lock between waits) until the exchange the caller joined completes. */
    private void await() {
        long gen = generation;
        try {
            while (gen == generation && failure == null) {
                done.await();
            }
            if (failure != null) {
                throw new EmulationException(failure);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmulationException(warp + ": interrupted at a shuffle", e);
        }
    }

    /** A lane returned; lanes already waiting at a shuffle can never complete it. */
    void exit() {
        lock.lock();
        try {
            live--;
            if (arrived > 0) {
                fail(warp + ": a lane returned while " + arrived + " lanes wait at the shuffle at " + phaseSite.display()
                        + "; all 32 lanes must take part in every shuffle");
            }
        } finally {
            lock.unlock();
        }
    }

    /** How often an exchange completed or a lane returned: a warp whose count stands still makes no progress. */
    long progress() {
        lock.lock();
        try {
            return generation - live; // both a completed exchange and a return raise it
        } finally {
            lock.unlock();
        }
    }

    /** Where lanes wait and for how many, or null when none waits. */
    String stall() {
        lock.lock();
        try {
            return arrived == 0 ? null : warp + ": " + arrived + " lanes wait at the shuffle at " + phaseSite.display()
                    + " for " + (live - arrived);
        } finally {
            lock.unlock();
        }
    }

    private EmulationException fail(String message) {
        failure = message;
        done.signalAll();
        return new EmulationException(message);
    }

    /** PTX {@code shfl.sync} with clamp 31 (0 for up): an out-of-range source lane returns the lane's own value. */
    private int[] shuffle(ShuffleMode mode) {
        int[] out = new int[LANES];
        for (int lane = 0; lane < LANES; lane++) {
            int b = args[lane];
            int src = switch (mode) {
                case DOWN -> lane + b;
                case UP -> lane - b;
                case XOR -> lane ^ b;
                case IDX -> b & (LANES - 1);
            };
            out[lane] = src >= 0 && src < LANES ? inputs[src] : inputs[lane];
        }
        return out;
    }
}
