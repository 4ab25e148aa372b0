package org.retroinfer.accel.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.cuda.CudaDriver;
import org.retroinfer.accel.cuda.CudaException;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.cuda.MockLog;
import org.retroinfer.accel.cuda.MockNatives;
import org.retroinfer.accel.examples.CopyKernels;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * {@link CudaDevice}'s branches against the mock driver, which joins a stream that waits on a capturing stream's event
 * to the capture and refuses to end a capture whose forked work nothing waited for, as the driver does.
 */
class CudaDeviceTest {
    private static final KernelMethod COPY = KernelMethod.of(CopyKernels.class, "copyScalar");
    private CudaDevice device;
    private MockLog log;

    @BeforeEach
    void open() {
        device = new CudaDevice(Gpu.open(CudaDriver.load(MockNatives.libcuda().toString()), 0, false));
        log = new MockLog();
        log.clear();
    }

    @AfterEach
    void close() {
        device.close();
    }

    /** Launches copyScalar with {@code n} elements, so that the log tells the launches apart. */
    private void launch(F32Array a, F32Array b, long n) {
        device.launch(COPY, Grid.of(1, 32), a, b, n);
    }

    private List<Long> launchedLengths() {
        return log.launches().lines().map(l -> Long.parseLong(l.substring(l.lastIndexOf("s64:") + 4))).toList();
    }

    @Test
    void aCaptureReplaysTheBranchesWorkWithItsOwn() {
        F32Array a = device.f32(16), b = device.f32(16);
        try (Device.Replay step = device.capture(() -> {
            launch(a, b, 1);
            device.branch(() -> launch(a, b, 2));
            launch(a, b, 3);
            device.branch(() -> launch(a, b, 4));
            device.join();
            launch(a, b, 5);
        })) {
            assertEquals("", log.launches(), "nothing runs while capturing");
            step.run();
            device.synchronize();
        }
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), launchedLengths());
    }

    @Test
    void aCaptureThatDoesNotJoinItsBranchFails() {
        F32Array a = device.f32(16), b = device.f32(16);
        CudaException e = assertThrows(CudaException.class, () -> device.capture(() -> {
            launch(a, b, 1);
            device.branch(() -> launch(a, b, 2));
            launch(a, b, 3);
        }));
        assertTrue(e.getMessage().contains("UNJOINED"), e.getMessage());
        device.join();
        // the device captures again afterwards
        try (Device.Replay step = device.capture(() -> launch(a, b, 6))) {
            step.run();
        }
        assertEquals(List.of(6L), launchedLengths());
    }

    @Test
    void aBranchJoinedBeforeTheLastWorkOfItsStreamLeavesThatWorkUnjoined() {
        F32Array a = device.f32(16), b = device.f32(16);
        assertThrows(CudaException.class, () -> device.capture(() -> {
            device.branch(() -> launch(a, b, 1));
            device.join();
            device.branch(() -> launch(a, b, 2));
        }));
        device.join();
    }

    @Test
    void eagerBranchesRunTheirWork() {
        F32Array a = device.f32(16), b = device.f32(16);
        device.branch(() -> launch(a, b, 7));
        launch(a, b, 8);
        device.join();
        device.synchronize();
        assertEquals(List.of(7L, 8L), launchedLengths());
    }

    @Test
    void aBranchInsideABranchIsRefused() {
        assertThrows(IllegalStateException.class, () -> device.branch(() -> device.branch(() -> {})));
    }
}
