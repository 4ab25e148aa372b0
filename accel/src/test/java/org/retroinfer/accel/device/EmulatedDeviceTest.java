package org.retroinfer.accel.device;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.TypedArray;

class EmulatedDeviceTest {
    /** A bench reads the peak after its scratch is freed: the peak keeps the height until it is reset. */
    @Test
    void peakAllocatedBytesKeepsTheHighestCountUntilReset() {
        try (Device device = new EmulatedDevice()) {
            TypedArray kept = device.allocate(ElementType.F32, 1000);
            TypedArray scratch = device.allocate(ElementType.I32, 3000);
            device.free(scratch);
            assertEquals(4000, device.allocatedBytes());
            assertEquals(16000, device.peakAllocatedBytes());
            device.resetPeakAllocatedBytes();
            assertEquals(4000, device.peakAllocatedBytes());
            device.free(kept);
            device.allocate(ElementType.F32, 500);
            assertEquals(4000, device.peakAllocatedBytes(), "a reset peak still counts what was allocated at the reset");
        }
    }
}
