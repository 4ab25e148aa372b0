package org.retroinfer.kernels.gpu;

import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Turns on the PCIe link for micro-batches decoding at once on one GPU, each on its own stream: before its
 * execution-buffer gather a micro-batch waits ({@link #await}) until the one before it in the ring has gathered as
 * often as it has, and after the gather it counts its turn ({@link #pass}). Then the gathers take the link one at a time,
 * A, B, A, B..., and each micro-batch computes while the other gathers, instead of both gathering at once and then both
 * computing (which is what micro-batches started together drift into). Turns order only the timing: the micro-batches
 * share no arrays, so no result depends on them.
 *
 * <p>{@code turns} holds {@code [active, count of micro-batch 0, count of micro-batch 1, ...]}. Waiting is bounded
 * ({@code spins} reads of the partner's count, {@link #SLEEP_NANOS} apart), so that a micro-batch whose partner has no gather to take (it
 * runs alone, or its step is of another kind) is slowed by at most that, never stopped; with {@code active} 0 nobody waits.
 * One thread does the work; launch on {@link #GRID}.
 */
public final class LinkTurns {
    public static final Grid GRID = Grid.of(1, KernelContext.WARP_SIZE);
    /** Where the switch sits in the turns array; micro-batch {@code m}'s count sits at {@code COUNTS + m}. */
    public static final int ACTIVE = 0;
    public static final int COUNTS = 1;
    /** A waiting thread's nap between reads of its partner's count. */
    public static final int SLEEP_NANOS = 256;

    private LinkTurns() {}

    /**
     * Waits until micro-batch {@code party}'s turn, of {@code parties}: the first goes once the last has gathered as often
     * as it has, every other once the one before it has gathered more often.
     */
    @Kernel
    public static void await(KernelContext ctx, I32Array turns, int party, int parties, int spins) {
        if (ctx.globalIdx != 0 || ctx.atomicAdd(turns, ACTIVE, 0) == 0) {
            return;
        }
        int previous = COUNTS + (party == 0 ? parties - 1 : party - 1);
        int lead = party == 0 ? 0 : 1;
        int mine = ctx.atomicAdd(turns, COUNTS + party, 0);
        int spun = 0;
        while (spun < spins && ctx.atomicAdd(turns, previous, 0) - mine < lead) {
            ctx.sleepNanos(SLEEP_NANOS);
            spun++;
        }
    }

    /** Counts micro-batch {@code party}'s turn taken: launch after its gather, on its stream. */
    @Kernel
    public static void pass(KernelContext ctx, I32Array turns, int party) {
        if (ctx.globalIdx == 0) {
            ctx.atomicAdd(turns, COUNTS + party, 1);
        }
    }
}
