package org.retroinfer.kvstore.wave;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.kernels.gpu.LinkTurns;

/**
 * The PCIe link as micro-batches on one GPU share it: each takes its turn to gather its execution buffer
 * ({@link LinkTurns}), so that one gathers while the others compute. Made on one device and used by its siblings; turns
 * are taken only while {@link #activate active}, which the caller switches with every micro-batch's device idle.
 */
public final class SharedLink implements AutoCloseable {
    private static final KernelMethod AWAIT = KernelMethod.of(LinkTurns.class, "await");
    private static final KernelMethod PASS = KernelMethod.of(LinkTurns.class, "pass");
    /**
     * Reads of the partner's count a turn waits at most: a few milliseconds at {@link LinkTurns#SLEEP_NANOS} apart, longer
     * than one micro-batch's gather at 128K (0.7 ms for 7 sequences on the H100), short enough that a partner with no
     * gather to take costs little.
     */
    static final int SPINS = 8192;

    private final Device device;
    private final int parties;
    private final I32Array turns;

    /** A link shared by {@code parties} micro-batches, its turns inactive. */
    public SharedLink(Device device, int parties) {
        if (parties < 2) {
            throw new IllegalArgumentException("a link is shared by two micro-batches or more, got " + parties);
        }
        this.device = device;
        this.parties = parties;
        this.turns = device.i32(LinkTurns.COUNTS + parties);
        activate(false);
    }

    public int parties() {
        return parties;
    }

    /** Starts (counts reset) or stops taking turns; every micro-batch's device must be idle. */
    public void activate(boolean on) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment values = arena.allocate(ValueLayout.JAVA_INT, turns.length());
            values.setAtIndex(ValueLayout.JAVA_INT, LinkTurns.ACTIVE, on ? 1 : 0);
            device.upload(values, turns);
            device.synchronize();
        }
    }

    /** Enqueues on {@code on} (micro-batch {@code party}'s device) the wait for its turn, before its gather. */
    public void awaitTurn(Device on, int party) {
        on.launch(AWAIT, LinkTurns.GRID, turns, party, parties, SPINS);
    }

    /** Enqueues on {@code on} the count of micro-batch {@code party}'s turn, after its gather. */
    public void pass(Device on, int party) {
        on.launch(PASS, LinkTurns.GRID, turns, party);
    }

    @Override
    public void close() {
        device.free(turns);
    }
}
