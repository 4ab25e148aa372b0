package org.retroinfer.accel.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.TypedArray;

/**
 * cuBLAS bindings against a CPU-computing mock: argument order, leading dimensions, transposes, data
 * types and the device pointer mode are checked by comparing with float64 references.
 */
class CublasTest {
    private static final long SEED = System.nanoTime();
    private Gpu gpu;
    private Cublas blas;
    private Arena arena;
    private final Random random = new Random(SEED);

    @BeforeEach
    void open() {
        System.out.println("seed " + SEED);
        gpu = Gpu.open(CudaDriver.load(MockNatives.libcuda().toString()), 0, false);
        blas = Cublas.create(gpu, MockNatives.libcublas().toString());
        arena = Arena.ofConfined();
    }

    @AfterEach
    void close() {
        blas.close();
        gpu.close();
        arena.close();
    }

    private F32Array randomHost(int n) {
        F32Array a = F32Array.allocate(arena, n);
        for (int i = 0; i < n; i++) {
            a.set(i, random.nextFloat() * 2 - 1);
        }
        return a;
    }

    private <T extends TypedArray> T upload(TypedArray host, T device) {
        gpu.copy(host, device, gpu.defaultStream());
        return device;
    }

    private F32Array download(F32Array device) {
        F32Array host = F32Array.allocate(arena, device.length());
        gpu.copy(device, host, gpu.defaultStream());
        gpu.defaultStream().synchronize();
        return host;
    }

    @Test
    void linearMatchesARowMajorReference() {
        int rows = 3;
        int in = 5;
        int out = 4;
        F32Array x = randomHost(rows * in);
        F32Array w = randomHost(out * in);
        F32Array dx = upload(x, gpu.allocate(4L * rows * in).asF32());
        F32Array dw = upload(w, gpu.allocate(4L * out * in).asF32());
        F32Array dy = gpu.allocate(4L * rows * out).asF32();
        blas.linear(gpu.defaultStream(), rows, in, out, dx, dw, dy);
        F32Array y = download(dy);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double ref = 0;
                for (int i = 0; i < in; i++) {
                    ref += (double) x.get(r * in + i) * w.get(o * in + i);
                }
                assertEquals(ref, y.get(r * out + o), 1e-5, "y[" + r + "][" + o + "]");
            }
        }
    }

    @Test
    void gemmWithBf16InputsAccumulatesInFloatWithAlphaAndBeta() {
        int m = 4;
        int n = 3;
        int k = 6;
        F32Array a = randomHost(m * k);
        F32Array b = randomHost(k * n);
        F32Array c0 = randomHost(m * n);
        BF16Array ha = BF16Array.allocate(arena, m * k);
        BF16Array hb = BF16Array.allocate(arena, k * n);
        ha.copyFrom(a.toArray());
        hb.copyFrom(b.toArray());
        BF16Array da = upload(ha, gpu.allocate(2L * m * k).asBF16());
        BF16Array db = upload(hb, gpu.allocate(2L * k * n).asBF16());
        F32Array dc = upload(c0, gpu.allocate(4L * m * n).asF32());
        blas.gemm(gpu.defaultStream(), false, false, m, n, k, 0.5f, da, m, db, k, 2f, dc, m);
        F32Array c = download(dc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double ref = 0;
                for (int p = 0; p < k; p++) {
                    ref += (double) ha.get(p * m + i) * hb.get(j * k + p);
                }
                assertEquals(0.5 * ref + 2 * c0.get(j * m + i), c.get(j * m + i), 1e-5);
            }
        }
    }

    @Test
    void gemvMatchesAColumnMajorReference() {
        int m = 7;
        int n = 5;
        F32Array a = randomHost(m * n);
        F32Array x = randomHost(n);
        F32Array da = upload(a, gpu.allocate(4L * m * n).asF32());
        F32Array dx = upload(x, gpu.allocate(4L * n).asF32());
        F32Array dy = gpu.allocate(4L * m).asF32();
        blas.gemv(gpu.defaultStream(), false, m, n, 1f, da, m, dx, 0f, dy);
        F32Array y = download(dy);
        for (int i = 0; i < m; i++) {
            double ref = 0;
            for (int j = 0; j < n; j++) {
                ref += (double) a.get(j * m + i) * x.get(j);
            }
            assertEquals(ref, y.get(i), 1e-5);
        }
    }

    @Test
    void undersizedMatricesAreRejectedBeforeTheCall() {
        F32Array small = gpu.allocate(16).asF32();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> blas.gemm(gpu.defaultStream(), false, false, 4, 4, 4, 1f, small, 4, small, 4, 0f, small, 4));
        assertTrue(e.getMessage().contains("A (4 x 4, leading dimension 4) needs 16 elements") || e.getMessage().contains("needs"),
                e.getMessage());
    }

    @Test
    void mismatchedOutputTypesAreRejectedBeforeTheCall() {
        F32Array a = gpu.allocate(64).asF32();
        BF16Array c = gpu.allocate(64).asBF16();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> blas.gemm(gpu.defaultStream(), false, false, 2, 2, 2, 1f, a, 2, a, 2, 0f, c, 2));
        assertTrue(e.getMessage().contains("writes C as F32 or F32, got BF16"), e.getMessage());
    }

    @Test
    void anSmCountTargetIsPassedOnAndANegativeOneIsRefused() {
        blas.smCountTarget(100); // the mock answers CUBLAS_STATUS_INVALID_VALUE to a bad handle or a negative count
        blas.smCountTarget(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> blas.smCountTarget(-1));
        assertTrue(e.getMessage().contains("0 (all) or more, got -1"), e.getMessage());
    }

    @Test
    void cublasStatusErrorsNameTheCallTheStatusAndItsText() {
        F16Array h = gpu.allocate(64).asF16();
        // the mock cannot write half-precision outputs and answers CUBLAS_STATUS_NOT_SUPPORTED
        CudaException e = assertThrows(CudaException.class,
                () -> blas.gemm(gpu.defaultStream(), false, false, 2, 2, 2, 1f, h, 2, h, 2, 0f, h, 2));
        assertEquals("cublasGemmEx(NN, m=2, n=2, k=2, F16) failed: CUBLAS_STATUS_NOT_SUPPORTED (the functionality requested"
                + " is not supported)", e.getMessage());
    }
}
