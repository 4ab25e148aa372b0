package org.retroinfer.kvstore;

/**
 * A {@link KvCache} that hands every operation to another one: the base of caches that watch or time the one they
 * wrap (override the operations they observe and call {@code super}). The interface's default methods are not
 * forwarded: a wrapper reports them as a plain cache does unless it says otherwise.
 */
public abstract class ForwardingKvCache implements KvCache {
    private final KvCache inner;

    protected ForwardingKvCache(KvCache inner) {
        this.inner = inner;
    }

    /** The wrapped cache. */
    public KvCache inner() {
        return inner;
    }

    @Override
    public AttentionShape shape() {
        return inner.shape();
    }

    @Override
    public int openSequence() {
        return inner.openSequence();
    }

    @Override
    public void closeSequence(int sequence) {
        inner.closeSequence(sequence);
    }

    @Override
    public long length(int sequence, int layer) {
        return inner.length(sequence, layer);
    }

    @Override
    public void append(int layer, BatchLayout batch, float[] keys, float[] values) {
        inner.append(layer, batch, keys, values);
    }

    @Override
    public void attend(int layer, BatchLayout batch, float[] queries, float[] out) {
        inner.attend(layer, batch, queries, out);
    }

    @Override
    public void endOfPrefill(int sequence) {
        inner.endOfPrefill(sequence);
    }

    @Override
    public long memoryBytes() {
        return inner.memoryBytes();
    }

    @Override
    public void close() {
        inner.close();
    }
}
