package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.device.EmulatedDevice;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * {@link LinkTurns} on the emulator, each micro-batch a sibling device driven by its own thread, as on the GPU: the
 * gathers alternate in the ring's order whoever starts first, a wait ends after its spins when the partner never comes,
 * and nobody waits while the turns are inactive.
 */
class LinkTurnsTest {
    private static final KernelMethod AWAIT = KernelMethod.of(LinkTurns.class, "await");
    private static final KernelMethod PASS = KernelMethod.of(LinkTurns.class, "pass");
    private static final int ENOUGH = Integer.MAX_VALUE;

    @Test
    void activeTurnsAlternateTheGathersInRingOrder() throws Exception {
        int parties = 3, rounds = 6;
        try (EmulatedDevice first = new EmulatedDevice()) {
            I32Array turns = first.i32(LinkTurns.COUNTS + parties);
            set(first, turns, 1, 0, 0, 0);
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            // the last party starts first and the first last: without turns they would gather in that order
            for (int p = parties - 1; p >= 0; p--) {
                int party = p;
                Device device = party == 0 ? first : first.sibling();
                Thread t = new Thread(() -> {
                    for (int r = 0; r < rounds; r++) {
                        device.launch(AWAIT, LinkTurns.GRID, turns, party, parties, ENOUGH);
                        order.add(party); // the gather
                        device.launch(PASS, LinkTurns.GRID, turns, party);
                    }
                });
                threads.add(t);
                t.start();
                Thread.sleep(20);
            }
            for (Thread t : threads) t.join(20_000);
            List<Integer> expected = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                for (int p = 0; p < parties; p++) expected.add(p);
            }
            assertEquals(expected, order);
        }
    }

    @Test
    void aWaitEndsAfterItsSpinsWhenThePartnerNeverGathers() {
        try (EmulatedDevice device = new EmulatedDevice()) {
            I32Array turns = device.i32(LinkTurns.COUNTS + 2);
            set(device, turns, 1, 0, 0);
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                for (int r = 0; r < 3; r++) {
                    device.launch(AWAIT, LinkTurns.GRID, turns, 1, 2, 1000); // waits for party 0, which never comes
                    device.launch(PASS, LinkTurns.GRID, turns, 1);
                }
            });
            assertEquals(3, get(device, turns, LinkTurns.COUNTS + 1));
        }
    }

    @Test
    void inactiveTurnsMakeNobodyWait() {
        try (EmulatedDevice device = new EmulatedDevice()) {
            I32Array turns = device.i32(LinkTurns.COUNTS + 2);
            set(device, turns, 0, 0, 0);
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                for (int r = 0; r < 3; r++) {
                    device.launch(AWAIT, LinkTurns.GRID, turns, 1, 2, ENOUGH);
                    device.launch(PASS, LinkTurns.GRID, turns, 1);
                }
            });
        }
    }

    private static void set(Device device, I32Array array, int... values) {
        try (Arena arena = Arena.ofConfined()) {
            device.upload(arena.allocateFrom(ValueLayout.JAVA_INT, values), array);
        }
    }

    private static int get(Device device, I32Array array, int index) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(ValueLayout.JAVA_INT, array.length());
            device.download(array, host);
            return host.getAtIndex(ValueLayout.JAVA_INT, index);
        }
    }
}
