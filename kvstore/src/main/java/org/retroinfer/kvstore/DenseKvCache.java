package org.retroinfer.kvstore;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.DType;

/**
 * Exact attention over every stored position. Keys and values are kept off-heap as F16 or BF16 in
 * pages of {@code pageTokens} positions per (sequence, layer), addressed with long offsets; math is
 * F32. Within a page each KV head's keys (then values) are contiguous, so a GQA group's query heads
 * stream each page once.
 */
public final class DenseKvCache implements KvCache {
    /** Storage type of K and V, and positions per page. */
    public record Config(DType storage, int pageTokens) {
        public Config {
            if (storage != DType.F16 && storage != DType.BF16) {
                throw new IllegalArgumentException("KV storage must be F16 or BF16, got " + storage);
            }
            if (pageTokens < 1 || pageTokens > 1 << 16) {
                throw new IllegalArgumentException("pageTokens must be in [1, 65536], got " + pageTokens);
            }
        }

        public static Config defaults() {
            return new Config(DType.F16, 256);
        }
    }

    private final AttentionShape shape;
    private final Config config;
    private final long pageBytes;
    private final Map<Integer, Sequence> sequences = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger();
    private final AtomicLong bytes = new AtomicLong();

    public DenseKvCache(AttentionShape shape, Config config) {
        this.shape = shape;
        this.config = config;
        this.pageBytes = 2L * shape.kvHeads() * config.pageTokens() * shape.headDim() * 2;
    }

    @Override
    public AttentionShape shape() {
        return shape;
    }

    public Config config() {
        return config;
    }

    @Override
    public int openSequence() {
        int id = nextId.getAndIncrement();
        sequences.put(id, new Sequence(shape.layers()));
        return id;
    }

    @Override
    public void closeSequence(int sequence) {
        Sequence s = sequences.remove(sequence);
        if (s == null) {
            throw new IllegalArgumentException("sequence " + sequence + " is not open");
        }
        bytes.addAndGet(-s.bytes);
        s.arena.close();
    }

    @Override
    public long length(int sequence, int layer) {
        return sequence(sequence).layers[layer].length;
    }

    @Override
    public void append(int layer, BatchLayout batch, float[] keys, float[] values) {
        int width = shape.kvWidth();
        int d = shape.headDim();
        DType type = config.storage();
        for (int i = 0; i < batch.size(); i++) {
            Sequence s = sequence(batch.sequence(i));
            Pages pages = s.layers[layer];
            int row = batch.firstRow(i);
            for (int r = 0; r < batch.count(i); r++, row++) {
                long position = pages.length;
                MemorySegment page = pages.pageFor(position, s);
                int slot = (int) (position % config.pageTokens());
                for (int h = 0; h < shape.kvHeads(); h++) {
                    AttentionKernels.store(keys, row * width + h * d, d, page, offset(0, h, slot), type);
                    AttentionKernels.store(values, row * width + h * d, d, page, offset(1, h, slot), type);
                }
                pages.length++;
            }
        }
    }

    @Override
    public void attend(int layer, BatchLayout batch, float[] queries, float[] out) {
        int kvHeads = shape.kvHeads();
        int group = shape.groupSize();
        int d = shape.headDim();
        int pageTokens = config.pageTokens();
        int[] entryOfRow = new int[batch.rows()];
        for (int i = 0, row = 0; i < batch.size(); i++) {
            for (int r = 0; r < batch.count(i); r++) {
                entryOfRow[row++] = i;
            }
        }
        Pages[] pagesOfEntry = new Pages[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            pagesOfEntry[i] = sequence(batch.sequence(i)).layers[layer];
        }
        ComputePool.forRange(entryOfRow.length * kvHeads, (start, end) -> {
            PartialSoftmax state = new PartialSoftmax(group, d);
            float[] scores = new float[group * pageTokens];
            for (int task = start; task < end; task++) {
                int row = task / kvHeads;
                int kvHead = task % kvHeads;
                int entry = entryOfRow[row];
                Pages pages = pagesOfEntry[entry];
                // Row r of an entry with `count` rows is position length − count + r.
                long visible = pages.length - batch.count(entry) + (row - batch.firstRow(entry)) + 1;
                int qOff = row * shape.queryWidth() + kvHead * group * d;
                state.reset();
                for (long first = 0; first < visible; first += pageTokens) {
                    int n = (int) Math.min(pageTokens, visible - first);
                    MemorySegment page = pages.pages.get((int) (first / pageTokens));
                    AttentionKernels.scores(queries, qOff, group, d, page, offset(0, kvHead, 0), config.storage(), n,
                            shape.scale(), scores, 0, pageTokens);
                    state.add(scores, pageTokens, n, page, offset(1, kvHead, 0), config.storage());
                }
                state.writeOutput(out, qOff);
            }
        });
    }

    @Override
    public long memoryBytes() {
        return bytes.get();
    }

    @Override
    public void close() {
        for (Integer id : List.copyOf(sequences.keySet())) {
            closeSequence(id);
        }
    }

    /** Byte offset in a page of (keys or values, KV head, slot). */
    private long offset(int kind, int kvHead, int slot) {
        return (((long) kind * shape.kvHeads() + kvHead) * config.pageTokens() + slot) * shape.headDim() * 2;
    }

    private Sequence sequence(int id) {
        Sequence s = sequences.get(id);
        if (s == null) {
            throw new IllegalArgumentException("sequence " + id + " is not open");
        }
        return s;
    }

    /** One sequence's pages, all freed together when it closes. */
    private final class Sequence {
        final Arena arena = Arena.ofShared();
        final Pages[] layers;
        long bytes;

        Sequence(int layerCount) {
            layers = new Pages[layerCount];
            for (int l = 0; l < layerCount; l++) {
                layers[l] = new Pages();
            }
        }
    }

    /** The pages of one (sequence, layer), filled in order. */
    private final class Pages {
        final List<MemorySegment> pages = new ArrayList<>();
        long length;

        MemorySegment pageFor(long position, Sequence owner) {
            int index = (int) (position / config.pageTokens());
            if (index == pages.size()) {
                pages.add(owner.arena.allocate(pageBytes, 64));
                owner.bytes += pageBytes;
                bytes.addAndGet(pageBytes);
            }
            return pages.get(index);
        }
    }
}
