package org.retroinfer.accel.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.cuda.Cublas;
import org.retroinfer.accel.cuda.CudaDriver;
import org.retroinfer.accel.cuda.CudaException;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.cuda.MockLog;
import org.retroinfer.accel.cuda.MockNatives;
import org.retroinfer.accel.examples.CopyKernels;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KMath;
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

    /**
     * The row-major {@code y = x wᵀ} reaches cuBLAS (the mock computes it on the CPU) with its transpositions and leading
     * dimensions right: rows, inputs and outputs all different, against a float64 loop.
     */
    @Test
    void blasLinearIsTheRowMajorLinearLayer() {
        System.setProperty(Cublas.LIBRARY_PROPERTY, MockNatives.libcublas().toString());
        try {
            int rows = 3, in = 16, out = 5;
            Random random = new Random(7);
            float[] x = new float[rows * in], w = new float[out * in];
            for (int i = 0; i < x.length; i++) x[i] = KMath.bf16ToFloat(KMath.floatToBf16((float) random.nextGaussian()));
            for (int i = 0; i < w.length; i++) w[i] = KMath.bf16ToFloat(KMath.floatToBf16((float) random.nextGaussian()));
            BF16Array dx = device.bf16(x.length), dw = device.bf16(w.length);
            F32Array dy = device.f32((long) rows * out);
            upload16(x, dx);
            upload16(w, dw);
            device.fill(dy, (byte) 0xFF);
            assertTrue(device.blasAvailable());
            device.blasLinear(dx, dw, dy, rows, in, out);
            float[] y = new float[rows * out];
            device.download(dy, MemorySegment.ofArray(y));
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    double want = 0;
                    for (int i = 0; i < in; i++) want += (double) x[r * in + i] * w[o * in + i];
                    assertEquals(want, y[r * out + o], 1e-5 * Math.max(1, Math.abs(want)), "row " + r + ", output " + o);
                }
            }
        } finally {
            System.clearProperty(Cublas.LIBRARY_PROPERTY);
        }
    }

    @Test
    void withoutCublasTheDeviceSaysItHasNoBlas() {
        Assumptions.assumeTrue(Cublas.libraryOverride() == null, "$RETROINFER_LIBCUBLAS names a library");
        // the default libcublas.so.13 is absent here, or cannot open on the mock driver's context: no BLAS, and no retry
        assertFalse(device.blasAvailable());
        assertFalse(device.blasAvailable());
    }

    @Test
    void aCublasTheUserNamedThatDoesNotLoadIsAnError() {
        System.setProperty(Cublas.LIBRARY_PROPERTY, "/nonexistent/libcublas.so.13");
        try {
            CudaException e = assertThrows(CudaException.class, device::blasAvailable);
            assertTrue(e.getMessage().contains("cannot load cuBLAS /nonexistent/libcublas.so.13"), e.getMessage());
        } finally {
            System.clearProperty(Cublas.LIBRARY_PROPERTY);
        }
    }

    private void upload16(float[] values, BF16Array destination) {
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) bits[i] = KMath.floatToBf16(values[i]);
        device.upload(MemorySegment.ofArray(bits), destination);
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
