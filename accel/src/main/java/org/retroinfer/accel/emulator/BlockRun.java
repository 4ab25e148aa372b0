package org.retroinfer.accel.emulator;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.retroinfer.accel.kernel.BlockScope;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelContext;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.ShuffleMode;
import org.retroinfer.accel.kernel.ThreadIndex;

/**
 * One block of an emulated launch: one virtual thread per GPU thread, a {@link BlockBarrier}, one
 * {@link WarpExchange} per warp and the block's shared arrays. A block whose threads wait at a barrier or shuffle while
 * no barrier opens, no exchange completes and no thread returns for the timeout is deadlocked: it is reported with
 * where its threads wait, and its threads are interrupted.
 */
final class BlockRun implements BlockScope {
    private final KernelMethod kernel;
    private final Grid grid;
    private final int groupX;
    private final int groupY;
    private final int groupZ;
    private final String name;
    private final long timeoutNanos;
    private final BlockBarrier barrier;
    private final WarpExchange[] warps;
    private final Map<Object, Object> shared = new HashMap<>();
    private Throwable failure;
    private String failedThread;

    BlockRun(KernelMethod kernel, Grid grid, int groupX, int groupY, int groupZ, long timeoutNanos) {
        this.kernel = kernel;
        this.grid = grid;
        this.groupX = groupX;
        this.groupY = groupY;
        this.groupZ = groupZ;
        this.name = "block (" + groupX + "," + groupY + "," + groupZ + ")";
        this.timeoutNanos = timeoutNanos;
        int threads = grid.threadsPerBlock();
        this.barrier = new BlockBarrier(name, threads);
        int warpCount = (threads + KernelContext.WARP_SIZE - 1) / KernelContext.WARP_SIZE;
        this.warps = new WarpExchange[warpCount];
        for (int w = 0; w < warpCount; w++) {
            int lanes = Math.min(KernelContext.WARP_SIZE, threads - w * KernelContext.WARP_SIZE);
            warps[w] = new WarpExchange(name + " warp " + w, lanes);
        }
    }

    /** Runs every thread of the block to completion; throws the first failure with the thread that hit it. */
    void run(Object[] arguments) {
        int contextIndex = kernel.contextIndex();
        Thread[] threads = new Thread[grid.threadsPerBlock()];
        int t = 0;
        for (int z = 0; z < grid.blockZ(); z++) {
            for (int y = 0; y < grid.blockY(); y++) {
                for (int x = 0; x < grid.blockX(); x++) {
                    KernelContext ctx = new KernelContext(new ThreadIndex(grid, groupX, groupY, groupZ, x, y, z), this);
                    Object[] javaArgs = withContext(arguments, contextIndex, ctx);
                    threads[t++] = Thread.ofVirtual().unstarted(() -> runThread(ctx, javaArgs));
                }
            }
        }
        for (Thread thread : threads) {
            thread.start();
        }
        try {
            awaitAll(threads);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmulationException(kernel.describe() + ": interrupted while waiting for " + name, e);
        }
        if (failure != null) {
            String what = failure instanceof EmulationException ? failure.getMessage() : failure.toString();
            throw new EmulationException(kernel.describe() + ": thread " + failedThread + " of " + name + " failed: "
                    + what, failure);
        }
    }

    /** Joins every thread; a block that waits without progress for the timeout is interrupted and reported. */
    private void awaitAll(Thread[] threads) throws InterruptedException {
        long progress = progress();
        for (Thread thread : threads) {
            while (!thread.join(Duration.ofNanos(timeoutNanos))) {
                long now = progress();
                String stall = stall();
                if (now != progress || stall == null) { // moving, or busy without waiting: as a GPU would let it run
                    progress = now;
                    continue;
                }
                for (Thread t : threads) {
                    t.interrupt();
                }
                for (Thread t : threads) {
                    t.join();
                }
                throw new EmulationException(String.format("%s: %s made no progress for %.1f s (a deadlock): %s",
                        kernel.describe(), name, timeoutNanos / 1e9, stall));
            }
        }
    }

    private long progress() {
        long sum = barrier.progress();
        for (WarpExchange warp : warps) {
            sum += warp.progress();
        }
        return sum;
    }

    /** Where the block's waiting threads wait, or null when none waits. */
    private String stall() {
        List<String> waits = new ArrayList<>();
        String b = barrier.stall();
        if (b != null) {
            waits.add(b);
        }
        for (WarpExchange warp : warps) {
            String w = warp.stall();
            if (w != null) {
                waits.add(w);
            }
        }
        return waits.isEmpty() ? null : String.join("; ", waits);
    }

    private void runThread(KernelContext ctx, Object[] javaArgs) {
        Method m = kernel.method();
        try {
            m.invoke(null, javaArgs);
        } catch (InvocationTargetException e) {
            recordFailure(ctx, e.getCause());
        } catch (ReflectiveOperationException | RuntimeException | Error e) {
            recordFailure(ctx, e);
        } finally {
            barrier.exit();
            warps[ctx.warpId].exit();
        }
    }

    private synchronized void recordFailure(KernelContext ctx, Throwable t) {
        if (failure == null) {
            failure = t;
            failedThread = "(" + ctx.localIdx + "," + ctx.localIdy + "," + ctx.localIdz + ")";
        }
    }

    private static Object[] withContext(Object[] arguments, int contextIndex, KernelContext ctx) {
        if (contextIndex < 0) {
            return arguments;
        }
        Object[] all = new Object[arguments.length + 1];
        System.arraycopy(arguments, 0, all, 0, contextIndex);
        all[contextIndex] = ctx;
        System.arraycopy(arguments, contextIndex, all, contextIndex + 1, arguments.length - contextIndex);
        return all;
    }

    @Override
    public void barrier(KernelContext thread) {
        barrier.await(CallSite.capture(kernel.method()), thread.index().linearLocalId());
    }

    @Override
    public Object sharedArray(KernelContext thread, Class<?> arrayType, int length) {
        if (length < 1) {
            throw new EmulationException(name + ": shared array of " + length + " elements; the size must be at least 1");
        }
        CallSite site = CallSite.capture(kernel.method());
        synchronized (shared) {
            Object array = shared.get(site.key());
            if (array == null) {
                array = java.lang.reflect.Array.newInstance(arrayType.getComponentType(), length);
                shared.put(site.key(), array);
            } else if (array.getClass() != arrayType || java.lang.reflect.Array.getLength(array) != length) {
                throw new EmulationException(name + ": threads allocated the shared array at " + site.display()
                        + " with different sizes (" + java.lang.reflect.Array.getLength(array) + " and " + length
                        + "); a shared array's size must be the same compile-time constant for the whole block");
            }
            return array;
        }
    }

    @Override
    public int shuffle(KernelContext thread, ShuffleMode mode, int value, int laneOrDelta) {
        return warps[thread.warpId].exchange(thread.laneId, CallSite.capture(kernel.method()), mode, value, laneOrDelta);
    }

    @Override
    public int[] gather(KernelContext thread, int[] values) {
        return warps[thread.warpId].gather(thread.laneId, CallSite.capture(kernel.method()), values);
    }
}
