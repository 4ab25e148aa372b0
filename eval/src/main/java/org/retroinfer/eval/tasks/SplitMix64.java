package org.retroinfer.eval.tasks;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * SplitMix64 (Steele, Lea and Flood, OOPSLA 2014) with the draws of {@code tools/train-tiny/rng.py},
 * bit for bit: every random choice of a task prompt goes through it, so a seed gives Java the same
 * prompt it gave Python. Values are 64-bit unsigned, held in {@code long}s with wrapping arithmetic.
 */
public final class SplitMix64 {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
    private static final long FNV_OFFSET = 0xCBF29CE484222325L;
    private static final long FNV_PRIME = 0x100000001B3L;

    private long state;

    public SplitMix64(long seed) {
        this.state = seed;
    }

    /** SplitMix64's output function (Stafford's variant 13). */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** FNV-1a, 64 bits, of the UTF-8 bytes of {@code text}. */
    static long fnv1a64(String text) {
        long h = FNV_OFFSET;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xFF)) * FNV_PRIME;
        }
        return h;
    }

    /** The seed of one sample, e.g. label {@code heldout/vt/8192/3} under the base seed (rng.py's derive_seed). */
    public static long deriveSeed(long base, String label) {
        return mix64((base ^ fnv1a64(label)) + GOLDEN_GAMMA);
    }

    public long next() {
        state += GOLDEN_GAMMA;
        return mix64(state);
    }

    /** Uniform in [0, n): a draw, rejected while it falls in the last partial block of n below 2^64. */
    public long below(long n) {
        if (n <= 0) {
            throw new IllegalArgumentException("below(n) needs n > 0, got " + n);
        }
        long partial = Long.remainderUnsigned(-n, n); // 2^64 mod n
        while (true) {
            long r = next();
            if (partial == 0 || Long.compareUnsigned(r, -partial) < 0) {
                return Long.remainderUnsigned(r, n);
            }
        }
    }

    /** {@link #below} for an int bound. */
    public int below(int n) {
        return (int) below((long) n);
    }

    /** Uniform in [lo, hi], both ends included. */
    public long between(long lo, long hi) {
        return lo + below(hi - lo + 1);
    }

    /** {@code k} distinct values of [0, n) in the order drawn: below(n) repeated, skipping repeats. */
    public List<Integer> distinct(int n, int k) {
        if (k > n) {
            throw new IllegalArgumentException("cannot draw " + k + " distinct values below " + n);
        }
        Set<Integer> seen = new HashSet<>();
        List<Integer> out = new ArrayList<>(k);
        while (out.size() < k) {
            int x = below(n);
            if (seen.add(x)) {
                out.add(x);
            }
        }
        return out;
    }

    /** Fisher-Yates from the last element down: swap i with below(i + 1). */
    public <T> void shuffle(List<T> items) {
        for (int i = items.size() - 1; i > 0; i--) {
            int j = below(i + 1);
            T t = items.get(i);
            items.set(i, items.get(j));
            items.set(j, t);
        }
    }

    /** A version 4 UUID of two draws (the first the high half), as Python's uuid.UUID(int=x, version=4) prints it. */
    public String uuid4() {
        long high = next();
        long low = next();
        high = (high & ~(0xFL << 12)) | (4L << 12); // version nibble: bits 76..79 of the 128
        low = (low & ~(0xCL << 60)) | (0x8L << 60); // variant bits 62..63: 10
        String h = String.format(Locale.ROOT, "%016x%016x", high, low);
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20) + "-"
                + h.substring(20, 32);
    }
}
