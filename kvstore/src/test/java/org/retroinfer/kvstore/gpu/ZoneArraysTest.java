package org.retroinfer.kvstore.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;
import org.retroinfer.accel.device.EmulatedDevice;
import org.retroinfer.accel.kernel.I32Array;

/**
 * The zone arrays reach the device only through the copies a step enqueues: every layer's staged values and the rows
 * in one, a layer restaged mid-step alone in another, which leaves the other layers' device values as they were.
 */
class ZoneArraysTest {
    private static final int LAYERS = 3, GROUPS = 2, SLOTS = 4;

    @Test
    void eachLayersStagedArraysReachTheDeviceInOneCopyAndARestagedLayerAlone() {
        try (EmulatedDevice device = new EmulatedDevice()) {
            ZoneArrays zones = new ZoneArrays(device, LAYERS, GROUPS, SLOTS);
            for (int layer = 0; layer < LAYERS; layer++) stage(zones, layer, 100 * layer);
            zones.stageRows(new int[] {2, 0, 1, 0});
            for (int layer = 0; layer < LAYERS; layer++) {
                assertArrayEquals(new int[] {-1, -1}, ints(zones.counts(layer)), "the device's poison until the copy");
            }
            zones.enqueue();
            device.synchronize();
            for (int layer = 0; layer < LAYERS; layer++) assertLayer(zones, layer, 100 * layer);
            assertArrayEquals(new int[] {2, 0, 1, 0}, ints(zones.rowOfSlot()));

            stage(zones, 0, 7000); // staged for the next step, not copied
            stage(zones, 1, 5000);
            zones.enqueueLayer(1);
            device.synchronize();
            assertLayer(zones, 0, 0);
            assertLayer(zones, 1, 5000);
            assertLayer(zones, 2, 200);
            assertArrayEquals(new int[] {7004, 7005}, ints(zones.stagedRetrieved(0)), "the host reads what it staged");
            zones.free();
        }
    }

    /** Layer values from {@code base}: counts base, base + 1; budgets base + 10 …; and so on, apart for each array. */
    private static void stage(ZoneArrays zones, int layer, int base) {
        zones.stage(layer, new int[] {base, base + 1}, new int[] {base + 10, base + 11, base + 12, base + 13},
                new int[] {base + 2, base + 3}, new int[] {base + 4, base + 5}, new int[] {base + 6, base + 7});
    }

    private static void assertLayer(ZoneArrays zones, int layer, int base) {
        assertArrayEquals(new int[] {base, base + 1}, ints(zones.counts(layer)), "counts of layer " + layer);
        assertArrayEquals(new int[] {base + 10, base + 11, base + 12, base + 13}, ints(zones.budgets(layer)), "budgets of layer " + layer);
        assertArrayEquals(new int[] {base + 2, base + 3}, ints(zones.estimationLengths(layer)), "estimation lengths of layer " + layer);
        assertArrayEquals(new int[] {base + 4, base + 5}, ints(zones.retrieved(layer)), "retrieval lengths of layer " + layer);
        assertArrayEquals(new int[] {base + 6, base + 7}, ints(zones.steadyLengths(layer)), "steady lengths of layer " + layer);
    }

    private static int[] ints(I32Array a) {
        int[] out = new int[Math.toIntExact(a.length())];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i);
        return out;
    }
}
