package org.retroinfer.kvstore.retro;

import java.lang.foreign.MemorySegment;
import org.retroinfer.kvstore.KvPages;

/**
 * Positions of one (sequence, layer) stored in position order somewhere (the prompt's pages, the
 * steady zone), read one KV head at a time: what an index build consumes.
 */
interface StoredTokens {
    /** Positions held. */
    long length();

    /** The key of {@code kvHead} at position {@code t} as floats into {@code out[off ..]}. */
    void readKey(int kvHead, long t, float[] out, int off);

    /** The value of {@code kvHead} at position {@code t} as floats into {@code out[off ..]}. */
    void readValue(int kvHead, long t, float[] out, int off);

    /** Copies the stored key and value of {@code kvHead} at position {@code t} bit for bit. */
    void copy(int kvHead, long t, MemorySegment keysDst, long keyOff, MemorySegment valuesDst, long valueOff);

    /** The positions [from, from + count) of this run. */
    default StoredTokens slice(long from, long count) {
        StoredTokens whole = this;
        if (from < 0 || count < 0 || from + count > length()) {
            throw new IndexOutOfBoundsException("slice [" + from + ", " + (from + count) + ") of " + length() + " positions");
        }
        return new StoredTokens() {
            @Override
            public long length() {
                return count;
            }

            @Override
            public void readKey(int kvHead, long t, float[] out, int off) {
                whole.readKey(kvHead, from + t, out, off);
            }

            @Override
            public void readValue(int kvHead, long t, float[] out, int off) {
                whole.readValue(kvHead, from + t, out, off);
            }

            @Override
            public void copy(int kvHead, long t, MemorySegment keysDst, long keyOff, MemorySegment valuesDst,
                             long valueOff) {
                whole.copy(kvHead, from + t, keysDst, keyOff, valuesDst, valueOff);
            }
        };
    }

    /** This run's positions followed by {@code next}'s. */
    default StoredTokens then(StoredTokens next) {
        StoredTokens first = this;
        long split = first.length();
        return new StoredTokens() {
            @Override
            public long length() {
                return split + next.length();
            }

            @Override
            public void readKey(int kvHead, long t, float[] out, int off) {
                if (t < split) {
                    first.readKey(kvHead, t, out, off);
                } else {
                    next.readKey(kvHead, t - split, out, off);
                }
            }

            @Override
            public void readValue(int kvHead, long t, float[] out, int off) {
                if (t < split) {
                    first.readValue(kvHead, t, out, off);
                } else {
                    next.readValue(kvHead, t - split, out, off);
                }
            }

            @Override
            public void copy(int kvHead, long t, MemorySegment keysDst, long keyOff, MemorySegment valuesDst,
                             long valueOff) {
                if (t < split) {
                    first.copy(kvHead, t, keysDst, keyOff, valuesDst, valueOff);
                } else {
                    next.copy(kvHead, t - split, keysDst, keyOff, valuesDst, valueOff);
                }
            }
        };
    }

    /** The positions of a prompt's pages. */
    static StoredTokens of(KvPages pages) {
        return new StoredTokens() {
            @Override
            public long length() {
                return pages.length();
            }

            @Override
            public void readKey(int kvHead, long t, float[] out, int off) {
                pages.readKey(kvHead, t, out, off);
            }

            @Override
            public void readValue(int kvHead, long t, float[] out, int off) {
                pages.readValue(kvHead, t, out, off);
            }

            @Override
            public void copy(int kvHead, long t, MemorySegment keysDst, long keyOff, MemorySegment valuesDst,
                             long valueOff) {
                pages.copy(kvHead, t, keysDst, keyOff, valuesDst, valueOff);
            }
        };
    }
}
