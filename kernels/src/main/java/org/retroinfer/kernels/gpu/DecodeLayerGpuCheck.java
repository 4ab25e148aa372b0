package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import org.retroinfer.accel.cuda.CudaDriver;
import org.retroinfer.accel.cuda.CudaEvent;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.DeviceBuffer;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.TypedArray;
import org.retroinfer.kernels.Rope;

/**
 * Runs the decode layer's kernels ({@link DecodeLayerShape}) on a real GPU against {@link DecodeLayerTwin}, the
 * CPU model's code, on random inputs with poisoned outputs, then times RMSNorm, RoPE and SwiGLU at Llama 3
 * 8B's decode shape (hidden 4096, 32 query and 8 KV heads, intermediate 14336). Exits 1 if a check fails.
 *
 * <p>{@code java org.retroinfer.kernels.gpu.DecodeLayerGpuCheck [BATCH]} (default 16).
 */
public final class DecodeLayerGpuCheck {
    /**
     * Relative error allowed for RMSNorm (its sum of squares in another order) and SwiGLU (the GPU's exp is
     * within 2 ulp); every other kernel must match bit for bit.
     */
    private static final double RELATIVE = 2e-6;
    private static final float EPS = 1e-5f;
    /** Positions in the RoPE table: angles up to 1.3·10⁵ radians, as at 128K context. */
    private static final int POSITIONS = 131072;

    private final Gpu gpu;
    private final CudaStream stream;
    private final Arena arena;
    private final Random random;
    /** Llama 3's cos and sin tables on the host, made on first use. */
    private Tables tables;

    private DecodeLayerGpuCheck(Gpu gpu, Arena arena, Random random) {
        this.gpu = gpu;
        this.stream = gpu.defaultStream();
        this.arena = arena;
        this.random = random;
    }

    public static void main(String[] args) {
        long seed = System.nanoTime();
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 16;
        try (Gpu gpu = Gpu.open(CudaDriver.system(), 0, false); Arena arena = Arena.ofShared()) {
            System.out.println("device: " + gpu.info() + ", Java float semantics, seed " + seed);
            DecodeLayerGpuCheck c = new DecodeLayerGpuCheck(gpu, arena, new Random(seed));
            boolean ok = c.rowNorm(new DecodeLayerShape(5, 4104, 32, 8, 14336))
                    & c.rowNorm(new DecodeLayerShape(16, 4096, 32, 8, 14336))
                    & c.headNorm(new DecodeLayerShape(5, 4096, 32, 8, 14336))
                    & c.rope(new DecodeLayerShape(5, 4096, 32, 8, 14336), Rope.Pairing.HALVES)
                    & c.rope(new DecodeLayerShape(16, 4096, 32, 8, 14336), Rope.Pairing.ADJACENT)
                    & c.swiglu(new DecodeLayerShape(16, 4096, 32, 8, 14336))
                    & c.residual(new DecodeLayerShape(5, 4104, 32, 8, 14336))
                    & c.rowNormAfterResidual(new DecodeLayerShape(5, 4104, 32, 8, 14336))
                    & c.rowNormAfterResidual(new DecodeLayerShape(16, 4096, 32, 8, 14336))
                    & c.kvAppend(new DecodeAttentionShape(5, 8, 4, 300, 1), true)
                    & c.kvAppend(new DecodeAttentionShape(5, 8, 4, 300, 1), false)
                    & c.embedding(new DecodeLayerShape(5, 4096, 32, 8, 14336), ElementType.BF16)
                    & c.embedding(new DecodeLayerShape(5, 4096, 32, 8, 14336), ElementType.F16)
                    & c.embedding(new DecodeLayerShape(5, 4096, 32, 8, 14336), ElementType.F32);
            c.time(new DecodeLayerShape(batch, 4096, 32, 8, 14336));
            System.out.println(ok ? "ALL OK" : "FAILED");
            System.exit(ok ? 0 : 1);
        }
    }

    private boolean rowNorm(DecodeLayerShape shape) {
        F32Array x = gaussian(shape.hiddenElements(), 3);
        F32Array weight = gaussian(shape.hidden(), 1);
        F32Array out = poisonedOnDevice(shape.hiddenElements());
        gpu.launch(KernelMethod.of(RmsNorm.class, "rows"), shape.normGrid(), stream, upload(x), upload(weight), out, shape.hidden(), EPS);
        return report("RmsNorm.rows " + shape.batch() + " x " + shape.hidden(),
                relative(DecodeLayerTwin.rmsNorm(x, weight, EPS, shape.batch(), shape.hidden()), download(out)), RELATIVE);
    }

    private boolean headNorm(DecodeLayerShape shape) {
        int rows = shape.batch() * shape.queryHeads();
        F32Array x = gaussian(shape.queryElements(), 2);
        F32Array weight = gaussian(HEAD_DIM, 1);
        F32Array out = poisonedOnDevice(shape.queryElements());
        gpu.launch(KernelMethod.of(RmsNorm.class, "heads"), shape.headNormGrid(shape.queryHeads()), stream, upload(x), upload(weight),
                out, rows, EPS);
        return report("RmsNorm.heads " + rows + " rows", relative(DecodeLayerTwin.rmsNorm(x, weight, EPS, rows, HEAD_DIM), download(out)),
                RELATIVE);
    }

    private boolean rope(DecodeLayerShape shape, Rope.Pairing pairing) {
        Tables tables = tables();
        int[] at = new int[shape.batch()];
        for (int s = 0; s < at.length; s++) at[s] = random.nextInt(POSITIONS);
        I32Array positions = I32Array.of(arena, at);
        F32Array q = gaussian(shape.queryElements(), 1);
        F32Array k = gaussian(shape.kvElements(), 1);
        F32Array deviceQ = upload(q), deviceK = upload(k);
        gpu.launch(KernelMethod.of(RopeRotation.class, pairing == Rope.Pairing.HALVES ? "halves" : "adjacent"), shape.ropeGrid(),
                stream, deviceQ, deviceK, upload(positions), upload(tables.cos), upload(tables.sin), shape.batch(), shape.queryHeads(),
                shape.kvHeads());
        double error = Math.max(
                relative(DecodeLayerTwin.rope(q, shape.batch(), shape.queryHeads(), positions, tables.cos, tables.sin, pairing), download(deviceQ)),
                relative(DecodeLayerTwin.rope(k, shape.batch(), shape.kvHeads(), positions, tables.cos, tables.sin, pairing), download(deviceK)));
        return report("RopeRotation " + pairing + " batch " + shape.batch(), error, 0);
    }

    private boolean swiglu(DecodeLayerShape shape) {
        long n = shape.intermediateElements();
        F32Array gate = gaussian(n, 4);
        F32Array up = gaussian(n, 2);
        F32Array deviceGate = upload(gate);
        gpu.launch(KernelMethod.of(SwiGlu.class, "apply"), shape.swigluGrid(), stream, deviceGate, upload(up), n);
        return report("SwiGlu " + shape.batch() + " x " + shape.intermediate(), relative(DecodeLayerTwin.swiglu(gate, up, n),
                download(deviceGate)), RELATIVE);
    }

    private boolean residual(DecodeLayerShape shape) {
        long n = shape.hiddenElements();
        F32Array x = gaussian(n, 10);
        F32Array y = gaussian(n, 1);
        F32Array deviceX = upload(x);
        gpu.launch(KernelMethod.of(ResidualAdd.class, "add"), shape.residualGrid(), stream, deviceX, upload(y), n);
        return report("ResidualAdd " + shape.batch() + " x " + shape.hidden(), relative(DecodeLayerTwin.residual(x, y, n), download(deviceX)), 0);
    }

    private boolean rowNormAfterResidual(DecodeLayerShape shape) {
        long n = shape.hiddenElements();
        F32Array x = gaussian(n, 10);
        F32Array y = gaussian(n, 1);
        F32Array weight = gaussian(shape.hidden(), 1);
        F32Array deviceX = upload(x);
        F32Array out = poisonedOnDevice(n);
        gpu.launch(KernelMethod.of(RmsNorm.class, "rowsAfterResidual"), shape.normGrid(), stream, deviceX, upload(y),
                upload(weight), out, shape.hidden(), EPS);
        float[] sum = DecodeLayerTwin.residual(x, y, n);
        boolean sumOk = report("RmsNorm.rowsAfterResidual " + shape.batch() + " x " + shape.hidden() + ", the sum",
                relative(sum, download(deviceX)), 0);
        return report("RmsNorm.rowsAfterResidual " + shape.batch() + " x " + shape.hidden() + ", the norm",
                relative(DecodeLayerTwin.rmsNorm(F32Array.of(arena, sum), weight, EPS, shape.batch(), shape.hidden()),
                        download(out)), RELATIVE) & sumOk;
    }

    private boolean kvAppend(DecodeAttentionShape cache, boolean bf16) {
        DecodeLayerShape shape = new DecodeLayerShape(cache.batch(), 8, cache.kvHeads(), cache.kvHeads(), 8);
        HalfPrecisionArray expectedK = half(bf16, cache.kvElements()), expectedV = half(bf16, cache.kvElements());
        for (HalfPrecisionArray c : new HalfPrecisionArray[] {expectedK, expectedV}) {
            for (long i = 0; i < c.length(); i++) c.setBits(i, (short) 0x7FFF); // NaN in both formats
        }
        int[] at = new int[cache.batch()];
        for (int s = 0; s < at.length; s++) at[s] = random.nextInt((int) cache.capacity());
        I32Array positions = I32Array.of(arena, at);
        F32Array k = gaussian(shape.kvElements(), 1);
        F32Array v = gaussian(shape.kvElements(), 1);
        HalfPrecisionArray kCache = (HalfPrecisionArray) upload(expectedK), vCache = (HalfPrecisionArray) upload(expectedV);
        int[] reversed = new int[cache.batch()];
        for (int s = 0; s < reversed.length; s++) reversed[s] = reversed.length - 1 - s;
        I32Array slots = I32Array.of(arena, reversed);
        DecodeLayerTwin.kvAppend(k, expectedK, slots, positions, cache.batch(), cache);
        DecodeLayerTwin.kvAppend(v, expectedV, slots, positions, cache.batch(), cache);
        gpu.launch(KernelMethod.of(KvAppend.class, "into"), shape.kvAppendGrid(), stream, upload(k), upload(v), kCache, vCache,
                upload(slots), upload(positions), cache.batch(), cache.kvHeads(), cache.capacity());
        long wrong = differentBits(expectedK, kCache) + differentBits(expectedV, vCache);
        boolean ok = wrong == 0;
        System.out.printf("check KvAppend.into (%s) %s: %d elements differ %s%n", bf16 ? "BF16" : "F16", cache, wrong,
                ok ? "OK" : "FAILED");
        return ok;
    }

    private boolean embedding(DecodeLayerShape shape, ElementType kind) {
        int vocab = 1000;
        long n = (long) vocab * shape.hidden();
        TypedArray table = switch (kind) {
            case BF16 -> BF16Array.allocate(arena, n);
            case F16 -> F16Array.allocate(arena, n);
            case F32 -> F32Array.allocate(arena, n);
            default -> throw new IllegalArgumentException("embedding tables are BF16, F16 or F32, not " + kind);
        };
        for (long i = 0; i < n; i++) {
            float value = (float) random.nextGaussian();
            if (table instanceof HalfPrecisionArray h) h.set(i, value);
            else ((F32Array) table).set(i, value);
        }
        int[] tokens = new int[shape.batch()];
        for (int r = 0; r < tokens.length; r++) tokens[r] = random.nextInt(vocab);
        I32Array tokenArray = I32Array.of(arena, tokens);
        F32Array out = poisonedOnDevice(shape.hiddenElements());
        String kernel = switch (kind) {
            case BF16, F16 -> "fromHalf";
            default -> "fromF32";
        };
        gpu.launch(KernelMethod.of(EmbeddingLookup.class, kernel), shape.embeddingGrid(), stream, upload(tokenArray), upload(table), out,
                shape.batch(), shape.hidden());
        return report("EmbeddingLookup." + kernel + " (" + kind + ") " + shape.batch() + " x " + shape.hidden(),
                relative(DecodeLayerTwin.embedding(tokenArray, shape.batch(), table, shape.hidden()), download(out)), 0);
    }

    /**
     * Each kernel, then the three in sequence, at {@code shape}: the median over 20 runs of 100 back-to-back
     * launches between two events, per launch. At decode sizes a launch moves a few hundred KB, so this is
     * mostly launch cost; the bandwidth column shows how far from the copy rate that leaves the kernel.
     */
    private void time(DecodeLayerShape shape) {
        F32Array x = onDevice(shape.hiddenElements()), normed = onDevice(shape.hiddenElements());
        F32Array weight = onDevice(shape.hidden());
        F32Array q = onDevice(shape.queryElements()), k = onDevice(shape.kvElements());
        F32Array gate = onDevice(shape.intermediateElements()), up = onDevice(shape.intermediateElements());
        F32Array cos = onDevice((long) POSITIONS * RopeRotation.PAIRS), sin = onDevice((long) POSITIONS * RopeRotation.PAIRS);
        int[] at = new int[shape.batch()];
        for (int s = 0; s < at.length; s++) at[s] = 1000 * s + 7;
        I32Array positions = upload(I32Array.of(arena, at));
        for (F32Array a : new F32Array[] {x, weight, q, k, gate, up, cos, sin}) {
            gpu.fill(a, (byte) 0x3C, stream); // 0x3C3C3C3C ≈ 0.0115: finite, so the real path runs
        }
        KernelMethod norm = KernelMethod.of(RmsNorm.class, "rows");
        KernelMethod rope = KernelMethod.of(RopeRotation.class, "halves");
        KernelMethod swiglu = KernelMethod.of(SwiGlu.class, "apply");
        Runnable normRun = () -> gpu.launch(norm, shape.normGrid(), stream, x, weight, normed, shape.hidden(), EPS);
        Runnable ropeRun = () -> gpu.launch(rope, shape.ropeGrid(), stream, q, k, positions, cos, sin, shape.batch(), shape.queryHeads(),
                shape.kvHeads());
        Runnable swigluRun = () -> gpu.launch(swiglu, shape.swigluGrid(), stream, gate, up, shape.intermediateElements());
        long qkBytes = 4 * (shape.queryElements() + shape.kvElements());
        // bytes each kernel must read and write: norm x in, out; RoPE q and k in place plus the batch's table rows; SwiGLU gate, up, gate
        print("RmsNorm.rows", shape, microseconds(normRun), 2L * 4 * shape.hiddenElements() + 4L * shape.hidden());
        print("RopeRotation.halves", shape, microseconds(ropeRun), 2 * qkBytes + 2L * 4 * shape.batch() * RopeRotation.PAIRS);
        print("SwiGlu.apply", shape, microseconds(swigluRun), 3L * 4 * shape.intermediateElements());
        double all = microseconds(() -> {
            normRun.run();
            ropeRun.run();
            swigluRun.run();
        });
        System.out.printf("time RmsNorm + RoPE + SwiGLU, batch %d: %.2f µs per layer%n", shape.batch(), all);
    }

    private static void print(String kernel, DecodeLayerShape shape, double micros, long bytes) {
        System.out.printf("time %s batch %d: %.2f µs per launch, %.0f GB/s of its reads and writes%n", kernel, shape.batch(), micros,
                bytes / micros / 1e3);
    }

    private double microseconds(Runnable work) {
        int reps = 20, launches = 100;
        for (int i = 0; i < 3 * launches; i++) work.run();
        double[] times = new double[reps];
        try (CudaEvent start = gpu.createEvent(); CudaEvent end = gpu.createEvent()) {
            for (int r = 0; r < reps; r++) {
                start.record(stream);
                for (int i = 0; i < launches; i++) work.run();
                end.record(stream);
                stream.synchronize();
                times[r] = 1000 * end.millisSince(start) / launches;
            }
        }
        Arrays.sort(times);
        return (times[reps / 2 - 1] + times[reps / 2]) / 2;
    }

    private record Tables(F32Array cos, F32Array sin) {}

    /** Llama 3's angles (θ = 500000) as RotaryEmbedding.angles computes them, for every table position. */
    private Tables tables() {
        if (tables == null) {
            F32Array cos = F32Array.allocate(arena, (long) POSITIONS * RopeRotation.PAIRS);
            F32Array sin = F32Array.allocate(arena, (long) POSITIONS * RopeRotation.PAIRS);
            for (int i = 0; i < RopeRotation.PAIRS; i++) {
                float inverseFrequency = 1f / (float) Math.pow(500000, (float) (2 * i) / HEAD_DIM);
                for (int p = 0; p < POSITIONS; p++) {
                    float angle = (float) p * inverseFrequency;
                    cos.set((long) p * RopeRotation.PAIRS + i, (float) Math.cos(angle));
                    sin.set((long) p * RopeRotation.PAIRS + i, (float) Math.sin(angle));
                }
            }
            tables = new Tables(cos, sin);
        }
        return tables;
    }

    private static boolean report(String what, double error, double tolerance) {
        boolean ok = error <= tolerance;
        System.out.printf("check %s: worst relative error %.2e (tolerance %.0e) %s%n", what, error, tolerance, ok ? "OK" : "FAILED");
        return ok;
    }

    /** The worst of |a − e| / max(1, |e|); NaN (a missed write) counts as infinite. */
    private static double relative(float[] expected, F32Array actual) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double error = Math.abs(actual.get(i) - expected[i]) / Math.max(1, Math.abs(expected[i]));
            worst = Double.isNaN(error) ? Double.POSITIVE_INFINITY : Math.max(worst, error);
        }
        return worst;
    }

    private long differentBits(HalfPrecisionArray expected, HalfPrecisionArray device) {
        HalfPrecisionArray actual = half(expected instanceof BF16Array, expected.length());
        gpu.copy(device, actual, stream);
        stream.synchronize();
        long wrong = 0;
        for (long i = 0; i < expected.length(); i++) {
            wrong += expected.getBits(i) != actual.getBits(i) ? 1 : 0;
        }
        return wrong;
    }

    private HalfPrecisionArray half(boolean bf16, long n) {
        return bf16 ? BF16Array.allocate(arena, n) : F16Array.allocate(arena, n);
    }

    private F32Array gaussian(long n, double sd) {
        F32Array a = F32Array.allocate(arena, n);
        for (long i = 0; i < n; i++) a.set(i, (float) (sd * random.nextGaussian()));
        return a;
    }

    private F32Array onDevice(long n) {
        return gpu.allocate(4 * n).asF32();
    }

    private F32Array poisonedOnDevice(long n) {
        F32Array a = onDevice(n);
        gpu.fill(a, (byte) 0xFF, stream); // NaN
        return a;
    }

    /** A device copy of a host array, of the same element type. */
    @SuppressWarnings("unchecked")
    private <T extends TypedArray> T upload(T host) {
        DeviceBuffer b = gpu.allocate(host.byteSize()); // freed with the Gpu
        TypedArray device = switch (host.elementType()) {
            case F32 -> b.asF32();
            case F16 -> b.asF16();
            case BF16 -> b.asBF16();
            case I32 -> b.asI32();
            default -> throw new IllegalArgumentException("no device view for " + host.describe());
        };
        gpu.copy(host, device, stream);
        return (T) device;
    }

    private F32Array download(F32Array device) {
        F32Array host = F32Array.allocate(arena, device.length());
        gpu.copy(device, host, stream);
        stream.synchronize();
        return host;
    }

}
