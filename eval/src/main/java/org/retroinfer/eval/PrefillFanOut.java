package org.retroinfer.eval;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.KvCache;

/**
 * One prompt prefilled once for several KV caches, so that attention modes compared on the same
 * prompt share its prefill: each sequence of the fan-out stands for one sequence in every cache.
 * Keys and values go to every cache; attention outputs come from the first.
 *
 * <p>This equals prefilling each cache alone where every cache attends a prefill chunk exactly
 * over the same stored keys and values, as the dense cache, RetroInfer and the baselines all do
 * (they are sparse only when decoding); then the prompt's keys, values and logits are the same
 * whichever cache answers. After the prefill each cache decodes its own sequence
 * ({@link #member}). The fan-out owns none of the caches: closing a fan-out sequence closes its
 * member sequences, and the caller closes the caches.
 */
final class PrefillFanOut implements KvCache {
    private final List<KvCache> caches;
    private final Map<Integer, int[]> members = new HashMap<>();
    private int nextSequence;

    PrefillFanOut(List<KvCache> caches) {
        if (caches.isEmpty()) {
            throw new IllegalArgumentException("a fan-out needs at least one cache");
        }
        AttentionShape shape = caches.getFirst().shape();
        for (KvCache c : caches) {
            if (!c.shape().equals(shape)) {
                throw new IllegalArgumentException("caches of a fan-out must share one shape, got " + shape + " and "
                        + c.shape());
            }
        }
        this.caches = List.copyOf(caches);
    }

    /** The sequence of cache {@code cache} that fan-out sequence {@code sequence} stands for. */
    int member(int sequence, int cache) {
        return members(sequence)[cache];
    }

    @Override
    public AttentionShape shape() {
        return caches.getFirst().shape();
    }

    @Override
    public int openSequence() {
        int[] ids = new int[caches.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = caches.get(i).openSequence();
        }
        int sequence = nextSequence++;
        members.put(sequence, ids);
        return sequence;
    }

    @Override
    public void closeSequence(int sequence) {
        int[] ids = members(sequence);
        members.remove(sequence);
        for (int i = 0; i < ids.length; i++) {
            caches.get(i).closeSequence(ids[i]);
        }
    }

    @Override
    public long length(int sequence, int layer) {
        return caches.getFirst().length(member(sequence, 0), layer);
    }

    @Override
    public void append(int layer, BatchLayout batch, float[] keys, float[] values) {
        for (int i = 0; i < caches.size(); i++) {
            caches.get(i).append(layer, layout(batch, i), keys, values);
        }
    }

    @Override
    public void attend(int layer, BatchLayout batch, float[] queries, float[] out) {
        caches.getFirst().attend(layer, layout(batch, 0), queries, out);
    }

    @Override
    public void endOfPrefill(int sequence) {
        int[] ids = members(sequence);
        for (int i = 0; i < ids.length; i++) {
            caches.get(i).endOfPrefill(ids[i]);
        }
    }

    @Override
    public long memoryBytes() {
        return caches.stream().mapToLong(KvCache::memoryBytes).sum();
    }

    /** Nothing to free: the caches belong to the caller. */
    @Override
    public void close() {}

    private int[] members(int sequence) {
        int[] ids = members.get(sequence);
        if (ids == null) {
            throw new IllegalArgumentException("sequence " + sequence + " is not open in this fan-out");
        }
        return ids;
    }

    private BatchLayout layout(BatchLayout batch, int cache) {
        int[] sequences = new int[batch.size()];
        for (int i = 0; i < sequences.length; i++) {
            sequences[i] = member(batch.sequence(i), cache);
        }
        return new BatchLayout(sequences, batch.counts());
    }
}
