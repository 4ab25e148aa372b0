package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.Arena;
import java.util.Random;
import org.retroinfer.accel.cuda.CudaDriver;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.DeviceBuffer;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * {@link FlashPrefill} on a real GPU at Llama 3 8B's attention shape (8 KV heads, groups of 4 query heads): the last
 * prompt chunk of a context of N positions (rows N − R … N − 1, each seeing the positions up to its own), random BF16
 * keys and values and F32 queries. First its outputs against {@link SplitKvDecode#rows} and its merge (F32 FMAs, the
 * kernel it replaces for prompt chunks) on the same inputs; then both kernels' median time, with the causal FLOPs over
 * the time ({@code 4·d} per (row, query head, visible key)). Exits 1 if the outputs differ by more than 1e-4 of their
 * scale (split bfloat16 against F32: about 1e-5).
 *
 * <p>{@code java org.retroinfer.kernels.gpu.FlashPrefillGpuCheck [N R ...]} (default 8192 2048 32768 2048 131072 2048).
 */
public final class FlashPrefillGpuCheck {
    private static final int KV_HEADS = 8, GROUP = 4, HEADS = KV_HEADS * GROUP;
    private static final float SCALE = (float) (1 / Math.sqrt(HEAD_DIM));
    private static final KernelMethod FLASH = KernelMethod.of(FlashPrefill.class, "bf16");
    private static final KernelMethod ROWS = KernelMethod.of(SplitKvDecode.class, "rows");
    private static final KernelMethod MERGE = KernelMethod.of(SplitKvMerge.class, "merge");
    private static final KernelMethod FILL = KernelMethod.of(RandomFill.class, "half");

    private FlashPrefillGpuCheck() {}

    public static void main(String[] args) {
        int[] sizes = args.length > 0 ? java.util.Arrays.stream(args).mapToInt(Integer::parseInt).toArray()
                : new int[] {8192, 2048, 32768, 2048, 131072, 2048};
        long seed = System.nanoTime();
        try (Gpu gpu = Gpu.open(CudaDriver.system(), 0, false)) {
            System.out.println("device: " + gpu.info() + ", seed " + seed);
            GpuTiming.warmUp(gpu);
            boolean ok = true;
            for (int i = 0; i + 1 < sizes.length; i += 2) {
                ok &= run(gpu, new Random(seed + i), sizes[i], sizes[i + 1]);
            }
            System.out.println(ok ? "ALL OK" : "FAILED");
            System.exit(ok ? 0 : 1);
        }
    }

    private static boolean run(Gpu gpu, Random random, int context, int rows) {
        CudaStream stream = gpu.defaultStream();
        long kv = (long) KV_HEADS * context * HEAD_DIM, queries = (long) rows * HEADS * HEAD_DIM;
        int perTile = FlashPrefill.positionsPerTile(GROUP), tiles = (rows + perTile - 1) / perTile;
        int[] slotOf = new int[rows], lengths = new int[rows], tileRows = new int[2 * tiles];
        for (int r = 0; r < rows; r++) lengths[r] = context - rows + r + 1;
        for (int t = 0; t < tiles; t++) {
            tileRows[2 * t] = t * perTile;
            tileRows[2 * t + 1] = Math.min(perTile, rows - t * perTile);
        }
        int resident = 132 * 4;
        int splits = DecodeAttentionShape.splitsFor(rows, KV_HEADS, GROUP, context, resident);
        splits = Math.max(1, Math.min(splits, 4));
        DecodeAttentionShape shape = new DecodeAttentionShape(rows, KV_HEADS, GROUP, context, splits);
        try (Arena arena = Arena.ofShared(); DeviceBuffer k = gpu.allocate(2 * kv); DeviceBuffer v = gpu.allocate(2 * kv);
             DeviceBuffer q = gpu.allocate(4 * queries); DeviceBuffer flashOut = gpu.allocate(4 * queries);
             DeviceBuffer rowsOut = gpu.allocate(4 * queries); DeviceBuffer outLse = gpu.allocate(4L * rows * HEADS);
             DeviceBuffer partialOut = gpu.allocate(4 * shape.partialRows() * HEAD_DIM);
             DeviceBuffer partialLse = gpu.allocate(4 * shape.partialRows());
             DeviceBuffer slots = gpu.allocate(4L * rows); DeviceBuffer lengthArray = gpu.allocate(4L * rows);
             DeviceBuffer tileArray = gpu.allocate(8L * tiles)) {
            gpu.launch(FILL, Grid.of(1024, 256), stream, k.asBF16(), kv, random.nextLong(), 1f);
            gpu.launch(FILL, Grid.of(1024, 256), stream, v.asBF16(), kv, random.nextLong(), 1f);
            F32Array hostQ = F32Array.allocate(arena, queries);
            for (long i = 0; i < queries; i++) hostQ.set(i, (float) random.nextGaussian());
            gpu.copy(hostQ, q.asF32(), stream);
            gpu.copy(I32Array.of(arena, slotOf), slots.asI32(), stream);
            gpu.copy(I32Array.of(arena, lengths), lengthArray.asI32(), stream);
            gpu.copy(I32Array.of(arena, tileRows), tileArray.asI32(), stream);
            gpu.fill(flashOut.asF32(), (byte) 0xFF, stream);
            gpu.fill(rowsOut.asF32(), (byte) 0xFF, stream);
            Runnable flash = () -> gpu.launch(FLASH, FlashPrefill.grid(tiles, KV_HEADS), stream, q.asF32(), k.asBF16(), v.asBF16(),
                    slots.asI32(), lengthArray.asI32(), tileArray.asI32(), flashOut.asF32(), tiles, KV_HEADS, (long) context, SCALE,
                    GROUP);
            int s = splits;
            Runnable byRows = () -> {
                gpu.launch(ROWS, shape.partialsGrid(), stream, q.asF32(), k.asBF16(), v.asBF16(), slots.asI32(), lengthArray.asI32(),
                        partialOut.asF32(), partialLse.asF32(), KV_HEADS, (long) context, s, SCALE, GROUP);
                gpu.launch(MERGE, shape.mergeGrid(), stream, partialOut.asF32(), partialLse.asF32(), rowsOut.asF32(), outLse.asF32(), s,
                        GROUP);
            };
            flash.run();
            byRows.run();
            F32Array a = F32Array.allocate(arena, queries), b = F32Array.allocate(arena, queries);
            gpu.copy(flashOut.asF32(), a, stream);
            gpu.copy(rowsOut.asF32(), b, stream);
            stream.synchronize();
            double worst = 0, scale = 0;
            for (long i = 0; i < queries; i++) {
                scale = Math.max(scale, Math.abs(b.get(i)));
                double error = Math.abs(a.get(i) - b.get(i));
                worst = Double.isNaN(error) ? Double.POSITIVE_INFINITY : Math.max(worst, error);
            }
            boolean ok = worst <= 1e-4 * scale;
            double flashMs = GpuTiming.medianMillis(gpu, stream, flash);
            double rowsMs = GpuTiming.medianMillis(gpu, stream, byRows);
            double flops = 0;
            for (int length : lengths) flops += 4.0 * HEAD_DIM * HEADS * length;
            System.out.printf("context %d, last %d rows: FlashPrefill %.3f ms (%.1f TFLOPS, %d blocks of %d) | rows + merge"
                            + " %.3f ms (%.1f TFLOPS, %d splits) | rows / flash %.2f | worst difference %.2e of %.2f %s%n", context, rows,
                    flashMs, flops / flashMs / 1e9, tiles * KV_HEADS, FlashPrefill.THREADS, rowsMs, flops / rowsMs / 1e9, splits,
                    rowsMs / flashMs, worst, scale, ok ? "OK" : "FAILED");
            return ok;
        }
    }
}
