package org.retroinfer.model.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Hugging Face's BPE model ({@code tokenizers::models::bpe}): a piece starts as one symbol per
 * character (or its {@code <0xXX>} byte tokens, or the unknown token), then the listed merge of
 * lowest rank is applied, leftmost first, until none applies. Symbols live in a linked list over
 * arrays and candidate merges in a heap, so a piece of n characters costs O(n log n); repeated
 * pieces come from a cache.
 */
final class BpeModel implements TokenModel {
    /** Pieces longer than this are not cached (the library's limit is 256 bytes). */
    private static final int MAX_CACHED_LENGTH = 256;
    private static final int CACHE_CAPACITY = 65_536;

    private final Map<String, Integer> vocab;
    private final PairMergeMap merges;
    private final int[] bmpCharIds;
    private final int[] byteIds;
    private final boolean byteFallback;
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final String continuingSubwordPrefix;
    private final String endOfWordSuffix;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param unkId the unknown token's id, or -1 when the model has none (unknown characters are
     *              then dropped, as the library does)
     */
    BpeModel(Map<String, Integer> vocab, PairMergeMap merges, boolean byteFallback, int unkId, boolean fuseUnk,
             boolean ignoreMerges, String continuingSubwordPrefix, String endOfWordSuffix) {
        this.vocab = vocab;
        this.merges = merges;
        this.byteFallback = byteFallback;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.ignoreMerges = ignoreMerges;
        this.continuingSubwordPrefix = continuingSubwordPrefix == null || continuingSubwordPrefix.isEmpty() ? null : continuingSubwordPrefix;
        this.endOfWordSuffix = endOfWordSuffix == null || endOfWordSuffix.isEmpty() ? null : endOfWordSuffix;
        bmpCharIds = new int[Character.MAX_VALUE + 1];
        Arrays.fill(bmpCharIds, -1);
        byteIds = new int[256];
        Arrays.fill(byteIds, -1);
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            String t = e.getKey();
            if (t.length() == 1) {
                bmpCharIds[t.charAt(0)] = e.getValue();
            } else if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
                int b = byteTokenValue(t);
                if (b >= 0) {
                    byteIds[b] = e.getValue();
                }
            }
        }
    }

    /** The byte a {@code <0xXX>} token stands for (upper-case hex, as the library writes them), or -1. */
    static int byteTokenValue(String token) {
        if (token.length() != 6 || !token.startsWith("<0x") || token.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(token.charAt(3), 16);
        int lo = Character.digit(token.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    @Override
    public void tokenize(String piece, IntList out) {
        if (piece.isEmpty()) {
            return;
        }
        if (ignoreMerges) {
            Integer whole = vocab.get(piece);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        int[] cached = cache.get(piece);
        if (cached != null) {
            out.addAll(cached);
            return;
        }
        int[] ids = merge(piece);
        if (piece.length() < MAX_CACHED_LENGTH && cache.size() < CACHE_CAPACITY) {
            cache.put(piece, ids);
        }
        out.addAll(ids);
    }

    private int[] merge(String piece) {
        IntList symbols = initialSymbols(piece);
        int n = symbols.size();
        int[] id = symbols.toArray();
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] removed = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        LongMinHeap queue = new LongMinHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            offer(queue, id, i, i + 1);
        }
        int remaining = n;
        while (!queue.isEmpty()) {
            long top = queue.poll();
            int pos = (int) top;
            int rank = (int) (top >>> 32);
            int right = next[pos];
            if (removed[pos] || right < 0) {
                continue;
            }
            long merge = merges.get(id[pos], id[right]);
            if (merge < 0 || (int) (merge >>> 32) != rank) {
                continue; // stale: one of the two symbols changed since this entry was queued
            }
            id[pos] = (int) merge;
            removed[right] = true;
            remaining--;
            next[pos] = next[right];
            if (next[pos] >= 0) {
                prev[next[pos]] = pos;
                offer(queue, id, pos, next[pos]);
            }
            if (prev[pos] >= 0) {
                offer(queue, id, prev[pos], pos);
            }
        }
        int[] result = new int[remaining];
        int k = 0;
        for (int i = 0; i >= 0 && k < remaining; i = next[i]) {
            result[k++] = id[i];
        }
        return result;
    }

    private void offer(LongMinHeap queue, int[] id, int left, int right) {
        long merge = merges.get(id[left], id[right]);
        if (merge >= 0) {
            // rank in the high half, position in the low half: lowest rank first, then leftmost
            queue.add((merge & 0xFFFFFFFF00000000L) | left);
        }
    }

    /** One symbol per character, as {@code BPE::merge_word} builds them. */
    private IntList initialSymbols(String piece) {
        IntList ids = new IntList(piece.length());
        int pendingUnk = -1;
        for (int i = 0; i < piece.length(); ) {
            int cp = piece.codePointAt(i);
            int end = i + Character.charCount(cp);
            boolean first = i == 0;
            boolean last = end == piece.length();
            i = end;
            int found = -1;
            String s = null;
            if (continuingSubwordPrefix == null && endOfWordSuffix == null && cp <= Character.MAX_VALUE) {
                found = bmpCharIds[cp];
            } else {
                s = Character.toString(cp);
                if (!first && continuingSubwordPrefix != null) {
                    s = continuingSubwordPrefix + s;
                }
                if (last && endOfWordSuffix != null) {
                    s = s + endOfWordSuffix;
                }
                Integer v = vocab.get(s);
                found = v == null ? -1 : v;
            }
            if (found >= 0) {
                if (pendingUnk >= 0) {
                    ids.add(pendingUnk);
                    pendingUnk = -1;
                }
                ids.add(found);
                continue;
            }
            if (byteFallback && addBytes(s == null ? Character.toString(cp) : s, ids)) {
                continue;
            }
            if (unkId >= 0) {
                if (pendingUnk >= 0 && !fuseUnk) {
                    ids.add(pendingUnk);
                }
                pendingUnk = unkId;
            }
        }
        if (pendingUnk >= 0) {
            ids.add(pendingUnk);
        }
        return ids;
    }

    /** The byte tokens of {@code s}, if the vocabulary has every one of them. */
    private boolean addBytes(String s, IntList ids) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) {
            if (byteIds[b & 0xFF] < 0) {
                return false;
            }
        }
        for (byte b : bytes) {
            ids.add(byteIds[b & 0xFF]);
        }
        return true;
    }
}
