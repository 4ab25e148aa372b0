package org.retroinfer.benchmarks;

import static org.retroinfer.kernels.VectorSupport.FLOAT;
import static org.retroinfer.kernels.VectorSupport.HALF;
import static org.retroinfer.kernels.VectorSupport.INT;
import static org.retroinfer.kernels.VectorSupport.ORDER;

import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Half;
import org.retroinfer.kernels.Matmul;
import org.retroinfer.kernels.WeightMatrix;

import java.lang.foreign.*;
import java.lang.invoke.MethodHandle;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.*;

/**
 * The batch-1 F16/BF16 matmul variants tried against the one-stream kernel before
 * {@link Matmul.RowStreams#FOUR} was kept, timed side by side in shuffled order each round, with
 * a 512 MiB copy per round as the yardstick (docs/benchmarks/matmul-batch1-streams.md lists
 * them and their numbers). Besides wall-clock rates it reports rates over the compute threads'
 * CPU time, which leave out the time a thread was descheduled: on a 2-core machine shared with
 * other work the wall-clock ratios swing widely, the CPU-time ones much less.
 *
 * <p>Usage: {@code MatmulVariants ROUNDS WARMUP TYPE:ROWSxCOLS[,...] VARIANT[,...]} with
 * {@code -Dhpcopy=true} to time a copy between huge-page segments too. The first variant is
 * the baseline of the paired ratios. Variants: {@code one}, {@code four} ({@code Matmul.multiply}
 * with that {@link Matmul.RowStreams}); {@code panel0} (this class's one-row kernel),
 * {@code panelP} and {@code panelPbB} (columns in panels of P, rows in blocks of B);
 * {@code interC}, {@code dynC} (rows dealt to the threads in chunks of C, round robin or from a
 * shared counter); {@code single} (one thread); {@code pfD} (BF16: a scalar load D bytes ahead
 * of each 64-byte line); {@code dualfar}, {@code dualnear} (two rows per loop from the two
 * halves of a thread's range, or adjacent); {@code quad} (BF16: four rows from four quarters,
 * two vectors each per step); {@code quad1}, {@code oct1} (BF16: four or eight such rows, one
 * vector each per step); prefix {@code hp-} puts the matrix in anonymous memory with
 * MADV_HUGEPAGE and MADV_COLLAPSE (2 MiB pages). {@code one} and {@code four} run inside
 * {@code Matmul}, out of reach of the CPU-time accounting: only their wall-clock figures mean
 * anything ({@code benchmarks/matmul-interleaved.sh} compares those two properly).
 */
public final class MatmulVariants {
    private static final int F16_SIGN_EXPONENT_MANTISSA = 0x8FFF_E000;
    /** Linux madvise advice values. */
    private static final int MADV_HUGEPAGE = 14, MADV_COLLAPSE = 25;

    private static float[] scaledForFiniteF16(float[] x) {
        float[] scaled = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            if (!(Math.abs(x[i]) < 0x1p63f)) {
                throw new IllegalArgumentException("x[" + i + "] = " + x[i] + " is too large for the finite F16 kernels");
            }
            scaled[i] = x[i] * 0x1p64f;
        }
        return scaled;
    }

    static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();
    static final java.util.concurrent.atomic.AtomicLong CPU = new java.util.concurrent.atomic.AtomicLong();
    static final java.util.concurrent.atomic.AtomicInteger PARTS = new java.util.concurrent.atomic.AtomicInteger();
    static ComputePool.RangeBody cpu(ComputePool.RangeBody b) {
        return (s, e) -> { long t = MX.getCurrentThreadCpuTime(); b.run(s, e); CPU.addAndGet(MX.getCurrentThreadCpuTime() - t); PARTS.incrementAndGet(); };
    }
    static void forRange(int n, int g, ComputePool.RangeBody b) { ComputePool.forRange(n, g, cpu(b)); }

    static final int L = FLOAT.length();

    static float bf16(MemorySegment data, long offset, float[] x, int x0, int n) {
        FloatVector acc0 = FloatVector.zero(FLOAT), acc1 = FloatVector.zero(FLOAT);
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            FloatVector w0 = ShortVector.fromMemorySegment(HALF, data, offset + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = ShortVector.fromMemorySegment(HALF, data, offset + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc0 = w0.fma(FloatVector.fromArray(FLOAT, x, x0 + i), acc0);
            acc1 = w1.fma(FloatVector.fromArray(FLOAT, x, x0 + i + L), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += Half.bf16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 2L * i)) * x[x0 + i];
        return sum;
    }

    static float f16f(MemorySegment data, long offset, float[] xs, int x0, int n) {
        FloatVector acc0 = FloatVector.zero(FLOAT), acc1 = FloatVector.zero(FLOAT);
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, offset + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(F16_SIGN_EXPONENT_MANTISSA).reinterpretAsFloats();
            FloatVector w1 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, offset + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(F16_SIGN_EXPONENT_MANTISSA).reinterpretAsFloats();
            acc0 = w0.fma(FloatVector.fromArray(FLOAT, xs, x0 + i), acc0);
            acc1 = w1.fma(FloatVector.fromArray(FLOAT, xs, x0 + i + L), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            int bits = (data.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset + 2L * i) << 13) & F16_SIGN_EXPONENT_MANTISSA;
            sum += Float.intBitsToFloat(bits) * xs[x0 + i];
        }
        return sum;
    }

    static float bf16pf(MemorySegment data, long offset, float[] x, int n, long dist, long last) {
        FloatVector acc0 = FloatVector.zero(FLOAT), acc1 = FloatVector.zero(FLOAT);
        int touch = 0;
        int i = 0;
        for (; i <= n - 2 * L; i += 2 * L) {
            long ahead = Math.min(offset + 2L * i + dist, last);
            touch += data.get(ValueLayout.JAVA_BYTE, ahead) + data.get(ValueLayout.JAVA_BYTE, Math.min(ahead + 64, last));
            FloatVector w0 = ShortVector.fromMemorySegment(HALF, data, offset + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = ShortVector.fromMemorySegment(HALF, data, offset + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc0 = w0.fma(FloatVector.fromArray(FLOAT, x, i), acc0);
            acc1 = w1.fma(FloatVector.fromArray(FLOAT, x, i + L), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        return touch == 12345678 ? sum + 1e-30f : sum;
    }

    /** two rows from far-apart places in one loop. */
    static void bf16dual(MemorySegment data, long offA, long offB, float[] x, int n, float[] out, int ra, int rb) {
        FloatVector a0 = FloatVector.zero(FLOAT), a1 = FloatVector.zero(FLOAT), b0 = FloatVector.zero(FLOAT), b1 = FloatVector.zero(FLOAT);
        for (int i = 0; i <= n - 2 * L; i += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(FLOAT, x, i), x1 = FloatVector.fromArray(FLOAT, x, i + L);
            FloatVector w0 = ShortVector.fromMemorySegment(HALF, data, offA + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = ShortVector.fromMemorySegment(HALF, data, offA + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector v0 = ShortVector.fromMemorySegment(HALF, data, offB + 2L * i, ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector v1 = ShortVector.fromMemorySegment(HALF, data, offB + 2L * (i + L), ORDER)
                    .convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a0 = w0.fma(x0, a0); a1 = w1.fma(x1, a1); b0 = v0.fma(x0, b0); b1 = v1.fma(x1, b1);
        }
        out[ra] = a0.add(a1).reduceLanes(VectorOperators.ADD);
        out[rb] = b0.add(b1).reduceLanes(VectorOperators.ADD);
    }

    static void bf16quad(MemorySegment data, long oa, long ob, long oc, long od, float[] x, int n, float[] out, int ra, int rb, int rc, int rd) {
        FloatVector a0 = FloatVector.zero(FLOAT), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        for (int i = 0; i <= n - 2 * L; i += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(FLOAT, x, i), x1 = FloatVector.fromArray(FLOAT, x, i + L);
            a0 = ShortVector.fromMemorySegment(HALF, data, oa + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a0);
            a1 = ShortVector.fromMemorySegment(HALF, data, oa + 2L * (i + L), ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x1, a1);
            b0 = ShortVector.fromMemorySegment(HALF, data, ob + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, b0);
            b1 = ShortVector.fromMemorySegment(HALF, data, ob + 2L * (i + L), ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x1, b1);
            c0 = ShortVector.fromMemorySegment(HALF, data, oc + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, c0);
            c1 = ShortVector.fromMemorySegment(HALF, data, oc + 2L * (i + L), ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x1, c1);
            d0 = ShortVector.fromMemorySegment(HALF, data, od + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, d0);
            d1 = ShortVector.fromMemorySegment(HALF, data, od + 2L * (i + L), ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x1, d1);
        }
        out[ra] = a0.add(a1).reduceLanes(VectorOperators.ADD);
        out[rb] = b0.add(b1).reduceLanes(VectorOperators.ADD);
        out[rc] = c0.add(c1).reduceLanes(VectorOperators.ADD);
        out[rd] = d0.add(d1).reduceLanes(VectorOperators.ADD);
    }

    static void f16dual(MemorySegment data, long offA, long offB, float[] xs, int n, float[] out, int ra, int rb) {
        FloatVector a0 = FloatVector.zero(FLOAT), a1 = FloatVector.zero(FLOAT), b0 = FloatVector.zero(FLOAT), b1 = FloatVector.zero(FLOAT);
        for (int i = 0; i <= n - 2 * L; i += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(FLOAT, xs, i), x1 = FloatVector.fromArray(FLOAT, xs, i + L);
            FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, offA + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(F16_SIGN_EXPONENT_MANTISSA).reinterpretAsFloats();
            FloatVector w1 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, offA + 2L * (i + L), ORDER).convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(F16_SIGN_EXPONENT_MANTISSA).reinterpretAsFloats();
            FloatVector v0 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, offB + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(F16_SIGN_EXPONENT_MANTISSA).reinterpretAsFloats();
            FloatVector v1 = ((IntVector) ShortVector.fromMemorySegment(HALF, data, offB + 2L * (i + L), ORDER).convertShape(VectorOperators.S2I, INT, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(F16_SIGN_EXPONENT_MANTISSA).reinterpretAsFloats();
            a0 = w0.fma(x0, a0); a1 = w1.fma(x1, a1); b0 = v0.fma(x0, b0); b1 = v1.fma(x1, b1);
        }
        out[ra] = a0.add(a1).reduceLanes(VectorOperators.ADD) * 0x1p48f;
        out[rb] = b0.add(b1).reduceLanes(VectorOperators.ADD) * 0x1p48f;
    }

    static void bf16k(MemorySegment data, long[] off, float[] x, int n, float[] out, int[] rows) {
        int k = off.length;
        if (k == 4) {
            long oa = off[0], ob = off[1], oc = off[2], od = off[3];
            FloatVector a = FloatVector.zero(FLOAT), b = a, c = a, d = a;
            for (int i = 0; i <= n - L; i += L) {
                FloatVector x0 = FloatVector.fromArray(FLOAT, x, i);
                a = ShortVector.fromMemorySegment(HALF, data, oa + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a);
                b = ShortVector.fromMemorySegment(HALF, data, ob + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, b);
                c = ShortVector.fromMemorySegment(HALF, data, oc + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, c);
                d = ShortVector.fromMemorySegment(HALF, data, od + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, d);
            }
            out[rows[0]] = a.reduceLanes(VectorOperators.ADD); out[rows[1]] = b.reduceLanes(VectorOperators.ADD);
            out[rows[2]] = c.reduceLanes(VectorOperators.ADD); out[rows[3]] = d.reduceLanes(VectorOperators.ADD);
        } else {
            long o0 = off[0], o1 = off[1], o2 = off[2], o3 = off[3], o4 = off[4], o5 = off[5], o6 = off[6], o7 = off[7];
            FloatVector a = FloatVector.zero(FLOAT), b = a, c = a, d = a, e = a, f = a, g = a, h = a;
            for (int i = 0; i <= n - L; i += L) {
                FloatVector x0 = FloatVector.fromArray(FLOAT, x, i);
                a = ShortVector.fromMemorySegment(HALF, data, o0 + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a);
                b = ShortVector.fromMemorySegment(HALF, data, o1 + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, b);
                c = ShortVector.fromMemorySegment(HALF, data, o2 + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, c);
                d = ShortVector.fromMemorySegment(HALF, data, o3 + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, d);
                e = ShortVector.fromMemorySegment(HALF, data, o4 + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, e);
                f = ShortVector.fromMemorySegment(HALF, data, o5 + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, f);
                g = ShortVector.fromMemorySegment(HALF, data, o6 + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, g);
                h = ShortVector.fromMemorySegment(HALF, data, o7 + 2L * i, ORDER).convertShape(VectorOperators.S2I, INT, 0).reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, h);
            }
            out[rows[0]] = a.reduceLanes(VectorOperators.ADD); out[rows[1]] = b.reduceLanes(VectorOperators.ADD);
            out[rows[2]] = c.reduceLanes(VectorOperators.ADD); out[rows[3]] = d.reduceLanes(VectorOperators.ADD);
            out[rows[4]] = e.reduceLanes(VectorOperators.ADD); out[rows[5]] = f.reduceLanes(VectorOperators.ADD);
            out[rows[6]] = g.reduceLanes(VectorOperators.ADD); out[rows[7]] = h.reduceLanes(VectorOperators.ADD);
        }
    }

    static Variant kfar(int k) {
        return (w, x, out) -> {
            MemorySegment data = w.data(); long rowBytes = w.rowBytes(); int cols = (int) w.cols();
            forRange((int) w.rows(), 16, (s, e) -> {
                int q = (e - s) / k;
                long[] off = new long[k]; int[] rows = new int[k];
                for (int r = s; r < s + q; r++) {
                    for (int j = 0; j < k; j++) { rows[j] = r + j * q; off[j] = rows[j] * rowBytes; }
                    bf16k(data, off, x, cols, out, rows);
                }
            });
        };
    }

    static Variant quad() {
        return (w, x, out) -> {
            MemorySegment data = w.data(); long rowBytes = w.rowBytes(); int cols = (int) w.cols();
            forRange((int) w.rows(), 16, (s, e) -> {
                int q = (e - s) / 4;
                for (int r = s; r < s + q; r++) bf16quad(data, r * rowBytes, (r + q) * rowBytes, (r + 2 * q) * rowBytes, (r + 3 * q) * rowBytes, x, cols, out, r, r + q, r + 2 * q, r + 3 * q);
            });
        };
    }

    static Variant pf(long dist) {
        return (w, x, out) -> {
            MemorySegment data = w.data(); long rowBytes = w.rowBytes(); int cols = (int) w.cols(); long last = data.byteSize() - 1;
            forRange((int) w.rows(), 16, (s, e) -> { for (int r = s; r < e; r++) out[r] = bf16pf(data, r * rowBytes, x, cols, dist, last); });
        };
    }

    static Variant dual(boolean far) {
        return (w, x, out) -> {
            MemorySegment data = w.data(); long rowBytes = w.rowBytes(); int cols = (int) w.cols();
            forRange((int) w.rows(), 16, (s, e) -> {
                int half = (e - s) / 2;
                if (far && w.type() == DType.F16) { float[] xx = prep(w, x); for (int r = s; r < s + half; r++) f16dual(data, r * rowBytes, (r + half) * rowBytes, xx, cols, out, r, r + half); }
                else if (far) for (int r = s; r < s + half; r++) bf16dual(data, r * rowBytes, (r + half) * rowBytes, x, cols, out, r, r + half);
                else for (int r = s; r + 1 < e; r += 2) bf16dual(data, r * rowBytes, (r + 1) * rowBytes, x, cols, out, r, r + 1);
            });
        };
    }

    static Variant alt() { // alternate rows of two far-apart halves, one row per call
        return (w, x, out) -> {
            MemorySegment data = w.data(); long rowBytes = w.rowBytes(); int cols = (int) w.cols();
            forRange((int) w.rows(), 16, (s, e) -> {
                int half = (e - s) / 2;
                for (int r = s; r < s + half; r++) { out[r] = bf16(data, r * rowBytes, x, 0, cols); out[r + half] = bf16(data, (r + half) * rowBytes, x, 0, cols); }
            });
        };
    }

    /** rows [start,end) in blocks of blockRows; each block panel by panel. */
    static void panelRows(WeightMatrix w, float[] x, float[] out, int start, int end, int panel, int blockRows) {
        MemorySegment data = w.data();
        long rowBytes = w.rowBytes();
        int cols = (int) w.cols();
        boolean f16 = w.type() == DType.F16;
        float scale = f16 ? 0x1p48f : 1f;
        for (int rb = start; rb < end; rb += blockRows) {
            int re = Math.min(end, rb + blockRows);
            for (int c0 = 0; c0 < cols; c0 += panel) {
                int n = Math.min(panel, cols - c0);
                for (int r = rb; r < re; r++) {
                    long off = r * rowBytes + 2L * c0;
                    float p = f16 ? f16f(data, off, x, c0, n) : bf16(data, off, x, c0, n);
                    out[r] = c0 == 0 ? p : out[r] + p;
                }
            }
            if (f16) for (int r = rb; r < re; r++) out[r] *= scale;
        }
    }

    interface Variant { void run(WeightMatrix w, float[] x, float[] out); }

    static float[] prep(WeightMatrix w, float[] x) {
        return w.type() == DType.F16 ? scaledForFiniteF16(x) : x;
    }

    static Variant contiguous(int panel, int blockRows) {
        return (w, x, out) -> {
            float[] xx = prep(w, x);
            int p = panel == 0 ? (int) w.cols() : panel;
            forRange((int) w.rows(), 16, (s, e) -> panelRows(w, xx, out, s, e, p, blockRows == 0 ? e - s : blockRows));
        };
    }

    static Variant interleaved(int chunk) {
        return (w, x, out) -> {
            float[] xx = prep(w, x);
            int rows = (int) w.rows();
            int chunks = (rows + chunk - 1) / chunk;
            int t = ComputePool.threads();
            forRange(t, 1, (s, e) -> {
                for (int c = s; c < chunks; c += t) {
                    panelRows(w, xx, out, c * chunk, Math.min(rows, (c + 1) * chunk), (int) w.cols(), chunk);
                }
            });
        };
    }

    static Variant dynamic(int chunk) {
        return (w, x, out) -> {
            float[] xx = prep(w, x);
            int rows = (int) w.rows();
            int chunks = (rows + chunk - 1) / chunk;
            AtomicInteger next = new AtomicInteger();
            forRange(ComputePool.threads(), 1, (s, e) -> {
                for (int c; (c = next.getAndIncrement()) < chunks; ) {
                    panelRows(w, xx, out, c * chunk, Math.min(rows, (c + 1) * chunk), (int) w.cols(), chunk);
                }
            });
        };
    }

    static Variant single() {
        return (w, x, out) -> {
            float[] xx = prep(w, x);
            cpu((a, b) -> panelRows(w, xx, out, 0, (int) w.rows(), (int) w.cols(), (int) w.rows())).run(0, 1);
        };
    }

    static MemorySegment hugeCopy(Arena arena, MemorySegment src) throws Throwable {
        long size = src.byteSize();
        long rounded = (size + (2L << 20) - 1) & -(2L << 20);
        MemorySegment seg = arena.allocate(rounded, 2L << 20);
        MethodHandle madvise = Linker.nativeLinker().downcallHandle(Linker.nativeLinker().defaultLookup().find("madvise").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        int rc = (int) madvise.invokeExact(seg, rounded, MADV_HUGEPAGE);
        if (rc != 0) throw new IllegalStateException("madvise(MADV_HUGEPAGE) returned " + rc);
        MemorySegment dst = seg.asSlice(0, size);
        MemorySegment.copy(src, 0, dst, 0, size);
        // Arena.allocate has already touched (zeroed) the pages as 4 KiB ones: collapse them now.
        rc = (int) madvise.invokeExact(seg, rounded, MADV_COLLAPSE);
        if (rc != 0) System.out.println("madvise(MADV_COLLAPSE) returned " + rc + ": the hp- matrices may be on 4 KiB pages");
        return dst;
    }

    public static void main(String[] args) throws Throwable {
        if (args.length != 4) {
            System.err.println("usage: MatmulVariants ROUNDS WARMUP TYPE:ROWSxCOLS[,...] VARIANT[,...] (see the javadoc)");
            System.exit(2);
        }
        int rounds = Integer.parseInt(args[0]);
        int warm = Integer.parseInt(args[1]);
        String[] shapes = args[2].split(",");
        String[] variants = args[3].split(",");
        Arena arena = Arena.ofShared();
        long bytes = 512L << 20;
        MemorySegment source = arena.allocate(bytes, 4096), target = arena.allocate(bytes, 4096);
        source.fill((byte) 1); target.fill((byte) 2);
        List<String> names = new ArrayList<>();
        List<WeightMatrix> ws = new ArrayList<>();
        List<Variant> vs = new ArrayList<>();
        List<float[]> xs = new ArrayList<>();
        for (String shape : shapes) {
            String[] p = shape.split(":");
            DType type = DType.valueOf(p[0]);
            String[] rc = p[1].split("x");
            int rows = Integer.parseInt(rc[0]), cols = Integer.parseInt(rc[1]);
            WeightMatrix w = RandomWeights.matrix(arena, type, rows, cols, 42L);
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) x[i] = (float) Math.sin(i);
            WeightMatrix wh = null;
            for (String v : variants) {
                boolean hp = v.startsWith("hp-");
                String vn = hp ? v.substring(3) : v;
                if (hp && wh == null) wh = new WeightMatrix(type, rows, cols, hugeCopy(arena, w.data()));
                names.add(shape + " " + v);
                ws.add(hp ? wh : w);
                xs.add(x);
                vs.add(variant(vn));
            }
        }
        System.out.println(Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(s -> s.startsWith("AnonHuge")).toList());
        // every variant against Matmul.multiply, as a check that it computes the same product
        for (int k = 0; k < ws.size(); k++) {
            WeightMatrix w = ws.get(k);
            float[] ref = new float[(int) w.rows()], got = new float[(int) w.rows()];
            Matmul.multiply(w, xs.get(k), ref, 1);
            vs.get(k).run(w, xs.get(k), got);
            double err = 0, mag = 0;
            for (int r = 0; r < ref.length; r++) { err = Math.max(err, Math.abs(ref[r] - got[r])); mag = Math.max(mag, Math.abs(ref[r])); }
            System.out.printf("%-30s maxerr %.3g (max |out| %.3g)%n", names.get(k), err, mag);
        }
        int K = ws.size();
        double[] copy = new double[rounds];
        double[][] ratio = new double[K][rounds], gbs = new double[K][rounds], cg = new double[K][rounds], cr = new double[K][rounds];
        double[] ccopy = new double[rounds];
        float[][] outs = new float[K][];
        for (int k = 0; k < K; k++) outs[k] = new float[(int) ws.get(k).rows()];
        Random rnd = new Random(7);
        boolean hpCopy = Boolean.getBoolean("hpcopy");
        MemorySegment hs = hpCopy ? hugeCopy(arena, source) : null, ht = hpCopy ? hugeCopy(arena, target) : null;
        double[] hcopy = new double[rounds];
        System.out.println(Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(x -> x.startsWith("AnonHuge")).toList());
        for (int round = -warm; round < rounds; round++) {
            long t0 = System.nanoTime();
            CPU.set(0); PARTS.set(0);
            forRange(512, 1, (s, e) -> MemorySegment.copy(source, s * (1L << 20), target, s * (1L << 20), (e - s) * (1L << 20)));
            double c = 2.0 * bytes / (System.nanoTime() - t0);
            double cc = 2.0 * bytes / (CPU.get() / (double) PARTS.get());
            List<Integer> order = new ArrayList<>(); for (int j = 0; j < K; j++) order.add(j);
            Collections.shuffle(order, rnd);
            for (int j = 0; j < K; j++) {
                int k = order.get(j);
                WeightMatrix w = ws.get(k);
                CPU.set(0); PARTS.set(0);
                long t = System.nanoTime();
                vs.get(k).run(w, xs.get(k), outs[k]);
                double rate = w.data().byteSize() / (double) (System.nanoTime() - t);
                double crate = w.data().byteSize() / (CPU.get() / (double) PARTS.get());
                if (round >= 0) { gbs[k][round] = rate; ratio[k][round] = rate / c; cg[k][round] = crate; cr[k][round] = crate / cc; }
            }
            if (round >= 0) { copy[round] = c; ccopy[round] = cc; }
            if (hpCopy) {
                long t1 = System.nanoTime();
                forRange(512, 1, (a, b) -> MemorySegment.copy(hs, a * (1L << 20), ht, a * (1L << 20), (b - a) * (1L << 20)));
                if (round >= 0) hcopy[round] = 2.0 * bytes / (System.nanoTime() - t1);
            }
        }
        System.out.printf("copy per-cpu-time median %.1f GB/s%n", q(ccopy, .5));
        for (int k = 0; k < K; k++)
            System.out.printf("CPU %-30s %6.1f GB/s  %5.1f%% of copy (q %4.1f-%4.1f)%n", names.get(k), q(cg[k], .5), 100 * q(cr[k], .5), 100 * q(cr[k], .25), 100 * q(cr[k], .75));
        if (hpCopy) { double[] d = new double[rounds]; for (int r = 0; r < rounds; r++) d[r] = hcopy[r] / copy[r];
            System.out.printf("hp copy median %.1f GB/s; paired hp/4k copy ratio %.3f (q %.3f-%.3f)%n", q(hcopy, .5), q(d, .5), q(d, .25), q(d, .75)); }
        System.out.printf("copy median %.1f GB/s (q %.1f-%.1f)%n", q(copy, .5), q(copy, .25), q(copy, .75));
        for (int k = 0; k < K; k++)
            System.out.printf("%-34s %6.1f GB/s (p90 %5.1f)  %5.1f%%  (q %4.1f-%4.1f)%n", names.get(k), q(gbs[k], .5), q(gbs[k], .9), 100 * q(ratio[k], .5), 100 * q(ratio[k], .25), 100 * q(ratio[k], .75));
        // paired comparisons against the first variant of each shape
        int per = variants.length;
        for (int s = 0; s < shapes.length; s++) {
            int b = s * per;
            for (int v = 1; v < per; v++) {
                double[] d = new double[rounds];
                double[] dc = new double[rounds];
                for (int r = 0; r < rounds; r++) { d[r] = gbs[b + v][r] / gbs[b][r]; dc[r] = cg[b + v][r] / cg[b][r]; }
                System.out.printf("  %-32s / %-12s paired wall ratio median %.3f (q %.3f-%.3f)   cpu-time ratio %.3f (q %.3f-%.3f)%n", names.get(b + v), variants[0], q(d, .5), q(d, .25), q(d, .75), q(dc, .5), q(dc, .25), q(dc, .75));
            }
        }
    }

    /** Variants whose kernels decode BF16 only: other types are refused rather than timed under a wrong decode. */
    static Variant bf16Only(String name, Variant v) {
        return (w, x, out) -> {
            if (w.type() != DType.BF16) {
                throw new IllegalArgumentException("variant " + name + " runs BF16 matrices only, got " + w.type());
            }
            v.run(w, x, out);
        };
    }

    static Variant variant(String v) {
        if (v.equals("quad") || v.equals("quad1") || v.equals("oct1") || v.equals("alt") || v.startsWith("pf")
                || v.equals("dualnear")) {
            return bf16Only(v, variantOfAnyType(v));
        }
        return variantOfAnyType(v);
    }

    static Variant variantOfAnyType(String v) {
        if (v.equals("one")) return (w, x, out) -> Matmul.multiply(w, x, out, 1, Matmul.RowStreams.ONE);
        if (v.equals("four")) return (w, x, out) -> Matmul.multiply(w, x, out, 1, Matmul.RowStreams.FOUR);
        if (v.equals("single")) return single();
        if (v.startsWith("panel")) { // panel<P>[b<B>]
            String[] p = v.substring(5).split("b");
            return contiguous(Integer.parseInt(p[0]), p.length > 1 ? Integer.parseInt(p[1]) : 0);
        }
        if (v.startsWith("pf")) return pf(Long.parseLong(v.substring(2)));
        if (v.equals("dualfar")) return dual(true);
        if (v.equals("dualnear")) return dual(false);
        if (v.equals("alt")) return alt();
        if (v.equals("quad")) return quad();
        if (v.equals("quad1")) return kfar(4);
        if (v.equals("oct1")) return kfar(8);
        if (v.startsWith("inter")) return interleaved(Integer.parseInt(v.substring(5)));
        if (v.startsWith("dyn")) return dynamic(Integer.parseInt(v.substring(3)));
        throw new IllegalArgumentException(v);
    }

    static double q(double[] v, double q) {
        double[] s = v.clone(); Arrays.sort(s);
        double at = q * (s.length - 1); int lo = (int) at; int hi = Math.min(s.length - 1, lo + 1);
        return s[lo] + (at - lo) * (s[hi] - s[lo]);
    }
}
