package org.retroinfer.kvstore.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Deque;
import org.retroinfer.accel.Switch;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.gpu.DecodeAttentionShape;
import org.retroinfer.kernels.gpu.DecodeLayerShape;
import org.retroinfer.kernels.gpu.FlashPrefill;
import org.retroinfer.kernels.gpu.KvAppend;
import org.retroinfer.kernels.gpu.RandomFill;
import org.retroinfer.kernels.gpu.SplitKvDecode;
import org.retroinfer.kernels.gpu.SplitKvMerge;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.kvstore.OpenSequences;

/**
 * Exact attention with every key and value in device memory: per layer one K and one V array of
 * {@code [slots][kvHeads][capacity][128]} BF16 or F16 elements, a sequence owning one slot from
 * {@link #openSequence} to {@link #closeSequence}. The GPU transformer calls {@link #prepare} (host work) and
 * {@link #enqueueRows} once per step, {@link #append(int, StepRows, F32Array, F32Array)} and
 * {@link #attend(int, StepRows, F32Array, F32Array)} per layer on device arrays (device work only, so a step can be
 * captured as a CUDA graph and replayed), and {@link #advanceAll} after the step. Decode rows attend by split-KV
 * attention ({@link SplitKvDecode#rows}, one wave of resident blocks) and its merge, prompt chunks of a BF16 cache by
 * tiles of positions on tensor cores ({@link FlashPrefill}). The {@link KvCache} methods on host arrays do the same
 * through uploads and downloads, which lets the CPU model and the cache contract tests use it too.
 *
 * <p>Memory is fixed at construction (slots × capacity tokens of every layer), so a step never allocates.
 */
public final class GpuKvCache implements DeviceKvCache {
    private static final KernelMethod MERGE = KernelMethod.of(SplitKvMerge.class, "merge");
    /**
     * Whether a BF16 cache's prompt chunks attend by {@link FlashPrefill} (the default) or row by row as decode rows
     * ({@link SplitKvDecode#rows}: the kernel before it, kept to compare against): {@code -Dretroinfer.prefill.kernel}
     * {@code flash} or {@code rows}.
     */
    private static final boolean FLASH_PREFILL = Switch.choice("retroinfer.prefill.kernel", "flash", "rows").equals("flash");
    private final Device device;
    private final AttentionShape shape;
    private final DType storage;
    private final int slots;
    private final long capacity;
    private final int maxRows;
    private final HalfPrecisionArray[] keys;
    private final HalfPrecisionArray[] values;
    private final KernelMethod partials;
    /** {@link FlashPrefill#bf16}, or null where prompt chunks attend row by row. */
    private final KernelMethod flash;
    private final KernelMethod append;
    private final StepRowArrays stepRows;
    private final F32Array partialOut, partialLse, outLse;
    /** Device arrays the KvCache methods on host arrays upload into and download from. */
    private final F32Array scratchIn, scratchOut;
    private final Deque<Integer> freeSlots = new ArrayDeque<>();
    /** Sequence id to its slot and per-layer lengths. */
    private final OpenSequences<Sequence> open = new OpenSequences<>();
    private final int residentBlocks;

    private static final class Sequence {
        final int slot;
        final long[] lengths;

        Sequence(int slot, int layers) {
            this.slot = slot;
            this.lengths = new long[layers];
        }
    }

    /**
     * @param slots    sequences open at once
     * @param capacity tokens per sequence
     * @param maxRows  the most rows a step may have (the prefill chunk or the decode batch, whichever is larger)
     */
    public GpuKvCache(Device device, AttentionShape shape, DType storage, int slots, long capacity, int maxRows) {
        checkShape(shape);
        if (storage != DType.BF16 && storage != DType.F16) {
            throw new IllegalArgumentException("the GPU KV cache stores BF16 or F16, not " + storage);
        }
        if (slots < 1 || capacity < 1 || maxRows < 1) {
            throw new IllegalArgumentException("slots, capacity and maxRows must be positive, got " + slots + ", " + capacity
                    + ", " + maxRows);
        }
        this.device = device;
        this.shape = shape;
        this.storage = storage;
        this.slots = slots;
        this.capacity = capacity;
        this.maxRows = maxRows;
        DecodeAttentionShape layout = new DecodeAttentionShape(slots, shape.kvHeads(), shape.groupSize(), capacity, 1);
        keys = new HalfPrecisionArray[shape.layers()];
        values = new HalfPrecisionArray[shape.layers()];
        for (int l = 0; l < shape.layers(); l++) {
            keys[l] = half(layout.kvElements());
            values[l] = half(layout.kvElements());
        }
        partials = KernelMethod.of(SplitKvDecode.class, "rows");
        flash = prefillKernel(storage).equals("flash") ? KernelMethod.of(FlashPrefill.class, "bf16") : null;
        append = KernelMethod.of(KvAppend.class, "into");
        stepRows = new StepRowArrays(device, maxRows);
        // One wave: rows × kvHeads × ⌈group/4⌉ × splits ≤ max(rows × kvHeads × ⌈group/4⌉, resident blocks)
        outLse = device.f32((long) maxRows * shape.queryHeads());
        scratchIn = device.f32((long) maxRows * shape.queryWidth());
        scratchOut = device.f32((long) maxRows * shape.queryWidth());
        residentBlocks = device.residentBlocks(partials, DecodeAttentionShape.PARTIAL_THREADS, scratchIn, keys[0], values[0],
                stepRows.slots(), stepRows.lengths(), outLse, outLse, shape.kvHeads(), capacity, 1, shape.scale(), shape.groupSize());
        long partialRows = (long) shape.groupSize() * Math.max((long) maxRows * shape.kvHeads(), residentBlocks);
        partialOut = device.f32(partialRows * HEAD_DIM);
        partialLse = device.f32(partialRows);
        for (int s = slots - 1; s >= 0; s--) {
            freeSlots.push(s);
        }
    }

    /** The kernel a cache of {@code storage} attends prompt chunks with: {@code flash} or {@code rows}. */
    public static String prefillKernel(DType storage) {
        return storage == DType.BF16 && FLASH_PREFILL ? "flash" : "rows";
    }

    /** Refuses attention the GPU kernels do not serve: heads other than 128 wide, groups over 8 query heads. */
    public static void checkShape(AttentionShape shape) {
        if (shape.headDim() != HEAD_DIM) {
            throw new IllegalArgumentException("the GPU attention kernels take heads of " + HEAD_DIM + " dimensions; this model's are "
                    + shape.headDim());
        }
        if (shape.groupSize() > DecodeAttentionShape.MAX_GROUP) {
            throw new IllegalArgumentException("the GPU attention kernels take up to " + DecodeAttentionShape.MAX_GROUP
                    + " query heads per KV head; this model has " + shape.groupSize());
        }
    }

    private HalfPrecisionArray half(long n) {
        return storage == DType.BF16 ? device.bf16(n) : device.f16(n);
    }

    @Override
    public AttentionShape shape() {
        return shape;
    }

    public DType storage() {
        return storage;
    }

    @Override
    public Device device() {
        return device;
    }

    /** Tokens each sequence may hold. */
    public long capacity() {
        return capacity;
    }

    @Override
    public int maxRows() {
        return maxRows;
    }

    @Override
    public int openSequence() {
        if (freeSlots.isEmpty()) {
            throw new IllegalStateException("all " + slots + " sequence slots of the GPU KV cache are in use");
        }
        return open.open(new Sequence(freeSlots.pop(), shape.layers()));
    }

    @Override
    public void closeSequence(int sequence) {
        freeSlots.push(open.remove(sequence).slot);
    }

    @Override
    public long length(int sequence, int layer) {
        return sequence(sequence).lengths[layer];
    }

    private Sequence sequence(int id) {
        return open.get(id);
    }

    /**
     * Makes {@code sequence} hold {@code tokens} tokens of random keys and values in every layer ({@link RandomFill},
     * uniform in [-1, 1)), as if a prompt of that length had been prefilled: decode-throughput benchmarks at long
     * contexts start from it, where a real prefill would take minutes and change nothing they measure.
     */
    public void fillRandom(int sequence, long tokens, long seed) {
        Sequence s = sequence(sequence);
        if (tokens > capacity) {
            throw new IllegalArgumentException("sequence " + sequence + " would hold " + tokens + " tokens; the GPU KV cache holds "
                    + capacity + " per sequence");
        }
        KernelMethod fill = KernelMethod.of(RandomFill.class, "half");
        DecodeAttentionShape layout = new DecodeAttentionShape(slots, shape.kvHeads(), shape.groupSize(), capacity, 1);
        long n = tokens * HEAD_DIM;
        for (int l = 0; l < shape.layers(); l++) {
            for (int h = 0; h < shape.kvHeads(); h++) {
                long at = layout.kvOffset(s.slot, h, 0);
                device.launch(fill, org.retroinfer.accel.kernel.Grid.of(1024, 256), keys[l].slice(at, n), n, seed++, 1f);
                device.launch(fill, org.retroinfer.accel.kernel.Grid.of(1024, 256), values[l].slice(at, n), n, seed++, 1f);
            }
            s.lengths[l] = tokens;
        }
    }

    /** Always: a dense step enqueues device work only. */
    @Override
    public boolean capturable(StepRows step) {
        return true;
    }

    /** Layer {@code layer}'s keys, {@code [slots][kvHeads][capacity][128]} (an index build reads the prompt's here). */
    public HalfPrecisionArray keys(int layer) {
        return keys[layer];
    }

    public HalfPrecisionArray values(int layer) {
        return values[layer];
    }

    /** The slot {@code sequence} holds. */
    public int slotOf(int sequence) {
        return sequence(sequence).slot;
    }

    /** Device bytes of one sequence's keys and values over every layer. */
    public static long bytesPerSequence(AttentionShape shape, DType storage, long capacity) {
        return 2L * shape.layers() * shape.kvHeads() * capacity * HEAD_DIM * storage.byteSize(1);
    }

    /**
     * Uploads where the step's rows go: the rows of {@code batch}'s sequences follow the positions {@code layer}
     * holds now (before the step's append). Checks that every sequence has room.
     */
    @Override
    public StepRows prepare(BatchLayout batch, int layer) {
        return rows(batch, layer, false);
    }

    /**
     * The step's rows, written into the staging arrays (host work only: {@link #enqueueRows} moves them);
     * {@code appended}: the layer holds them already (they are its last positions).
     */
    private StepRows rows(BatchLayout batch, int layer, boolean appended) {
        int rows = batch.rows();
        if (rows > maxRows) {
            throw new IllegalArgumentException("a step of " + rows + " rows exceeds the GPU KV cache's " + maxRows);
        }
        int r = 0, longest = 0, tiles = 0, perTile = FlashPrefill.positionsPerTile(shape.groupSize());
        for (int i = 0; i < batch.size(); i++) {
            Sequence s = sequence(batch.sequence(i));
            long first = s.lengths[layer] - (appended ? batch.count(i) : 0);
            if (first + batch.count(i) > capacity) {
                throw new IllegalArgumentException("sequence " + batch.sequence(i) + " would hold " + (first + batch.count(i))
                        + " tokens; the GPU KV cache holds " + capacity + " per sequence");
            }
            for (int j = 0; j < batch.count(i); j += perTile) {
                stepRows.setTile(tiles++, r + j, Math.min(perTile, batch.count(i) - j));
            }
            for (int j = 0; j < batch.count(i); j++, r++) {
                int position = (int) (first + j);
                stepRows.set(r, s.slot, position, position + 1);
                longest = Math.max(longest, position + 1);
            }
        }
        int splits = DecodeAttentionShape.splitsFor(rows, shape.kvHeads(), shape.groupSize(), longest, residentBlocks);
        return stepRows.step(rows, longest, splits, tiles);
    }

    /** Enqueues the copies of a prepared step's rows to the device (capturable). */
    @Override
    public void enqueueRows(StepRows step) {
        stepRows.enqueue(step);
    }

    /**
     * Enqueues the storing of the step's keys and values ({@code [rows][kvHeads][128]} F32 on the device) of
     * {@code layer}. Device work only: {@link #advance} records the new lengths.
     */
    @Override
    public void append(int layer, StepRows step, F32Array k, F32Array v) {
        DecodeLayerShape rows = new DecodeLayerShape(step.rows(), 8, shape.kvHeads(), shape.kvHeads(), 8);
        device.launch(append, rows.kvAppendGrid(), k, v, keys[layer], values[layer], step.slots(), step.positions(), step.rows(),
                shape.kvHeads(), capacity);
    }

    /** Records that {@code layer} now holds {@code batch}'s rows. */
    public void advance(int layer, BatchLayout batch) {
        for (int i = 0; i < batch.size(); i++) {
            sequence(batch.sequence(i)).lengths[layer] += batch.count(i);
        }
    }

    /** {@link #advance} for every layer: a whole forward step's appends. */
    @Override
    public void advanceAll(BatchLayout batch) {
        for (int l = 0; l < shape.layers(); l++) {
            advance(l, batch);
        }
    }

    /**
     * Enqueues the attention of the step's queries ({@code [rows][queryHeads][128]} F32 on the device) into {@code out}:
     * prompt chunks ({@link #usesPrefillTiles}) through {@link FlashPrefill}, one block per tile of positions, and
     * decode rows through split-KV partials and their merge.
     */
    @Override
    public void attend(int layer, StepRows step, F32Array q, F32Array out) {
        if (usesPrefillTiles(step)) {
            device.launch(flash, FlashPrefill.grid(step.tileCount(), shape.kvHeads()), q, keys[layer], values[layer], step.slots(),
                    step.lengths(), step.tiles(), out, step.tileCount(), shape.kvHeads(), capacity, shape.scale(),
                    shape.groupSize());
            return;
        }
        DecodeAttentionShape attention = new DecodeAttentionShape(step.rows(), shape.kvHeads(), shape.groupSize(), capacity,
                step.splits());
        device.launch(partials, attention.partialsGrid(), q, keys[layer], values[layer], step.slots(), step.lengths(), partialOut,
                partialLse, shape.kvHeads(), capacity, step.splits(), shape.scale(), shape.groupSize());
        device.launch(MERGE, attention.mergeGrid(), partialOut, partialLse, out, outLse, step.splits(), shape.groupSize());
    }

    /**
     * Whether a step's attention runs by tiles ({@link FlashPrefill}): BF16 storage (the kernel's tensor cores take
     * bfloat16 keys and values as they are), {@code -Dretroinfer.prefill.kernel} not {@code rows}, and tiles of two rows or more
     * on average, as prompt chunks have; a decode step's rows are a tile each and split their keys over blocks instead.
     */
    boolean usesPrefillTiles(StepRows step) {
        return flash != null && 2L * step.tileCount() <= step.rows();
    }

    @Override
    public void append(int layer, BatchLayout batch, float[] keysIn, float[] valuesIn) {
        int n = batch.rows() * shape.kvWidth();
        F32Array k = scratchIn.slice(0, n), v = scratchOut.slice(0, n);
        StepRows step = prepare(batch, layer);
        enqueueRows(step);
        device.upload(MemorySegment.ofArray(keysIn).asSlice(0, 4L * n), k);
        device.upload(MemorySegment.ofArray(valuesIn).asSlice(0, 4L * n), v);
        append(layer, step, k, v);
        advance(layer, batch);
    }

    @Override
    public void attend(int layer, BatchLayout batch, float[] queries, float[] out) {
        int n = batch.rows() * shape.queryWidth();
        StepRows step = rows(batch, layer, true);
        enqueueRows(step);
        F32Array q = scratchIn.slice(0, n), o = scratchOut.slice(0, n);
        device.upload(MemorySegment.ofArray(queries).asSlice(0, 4L * n), q);
        attend(layer, step, q, o);
        device.download(o, MemorySegment.ofArray(out).asSlice(0, 4L * n));
    }

    /** A whole slot of the cache's capacity, whatever the sequence's length. */
    @Override
    public long sequenceBytesBound(long promptTokens, long generatedTokens) {
        return bytesPerSequence(shape, storage, capacity);
    }

    @Override
    public java.util.Map<String, Long> memoryBytesByTier() {
        return java.util.Map.of("gpu", memoryBytes());
    }

    /** The device memory of the K/V arrays and the attention's scratch. */
    @Override
    public long memoryBytes() {
        long kv = 2L * shape.layers() * keys[0].byteSize();
        return kv + partialOut.byteSize() + partialLse.byteSize() + outLse.byteSize();
    }

    /** Frees the cache's device memory. */
    @Override
    public void close() {
        for (int l = 0; l < shape.layers(); l++) {
            device.free(keys[l]);
            device.free(values[l]);
        }
        stepRows.free();
        for (var array : new org.retroinfer.accel.kernel.TypedArray[] {partialOut, partialLse, outLse, scratchIn, scratchOut}) {
            device.free(array);
        }
    }
}
