package org.retroinfer.examples;

import java.util.HashSet;
import java.util.Set;
import org.retroinfer.kvstore.ForwardingKvCache;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.KvCache;

/**
 * A KV cache that passes every call to another and times the attention of decode steps (one row
 * per sequence, every sequence past its prompt), so that {@code bench} can set attention's share
 * of a decode step apart from the rest of the model's.
 */
final class AttentionTimer extends ForwardingKvCache {
    private final Set<Integer> decoding = new HashSet<>();
    private long decodeAttentionNanos;

    AttentionTimer(KvCache inner) {
        super(inner);
    }

    /** Nanoseconds spent in {@link #attend} for decode steps so far, all layers. */
    long decodeAttentionNanos() {
        return decodeAttentionNanos;
    }

    @Override
    public void closeSequence(int sequence) {
        decoding.remove(sequence);
        super.closeSequence(sequence);
    }

    @Override
    public void attend(int layer, BatchLayout batch, float[] queries, float[] out) {
        boolean decodeStep = batch.rows() == batch.size();
        for (int i = 0; decodeStep && i < batch.size(); i++) {
            decodeStep = decoding.contains(batch.sequence(i));
        }
        long start = System.nanoTime();
        super.attend(layer, batch, queries, out);
        if (decodeStep) {
            decodeAttentionNanos += System.nanoTime() - start;
        }
    }

    @Override
    public void endOfPrefill(int sequence) {
        super.endOfPrefill(sequence);
        decoding.add(sequence);
    }
}
