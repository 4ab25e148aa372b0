package org.retroinfer.model.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * llama.cpp's SentencePiece BPE ({@code llm_tokenizer_spm}) for GGUF {@code llama} vocabularies:
 * a piece starts as one symbol per character, then the adjacent pair whose concatenation is in the
 * vocabulary with the highest score is merged (leftmost on ties), until no pair is in the
 * vocabulary. A final symbol that is not a token (an unknown character) becomes its UTF-8 byte
 * tokens ({@code <0xXX>}), or the unknown token where a byte token is missing.
 */
final class SentencePieceModel implements TokenModel {
    private final Map<String, Integer> vocab;
    private final float[] scores;
    private final int[] byteIds;
    private final int unkId;

    SentencePieceModel(Map<String, Integer> vocab, float[] scores, int unkId) {
        this.vocab = vocab;
        this.scores = scores.clone();
        this.unkId = unkId;
        byteIds = new int[256];
        java.util.Arrays.fill(byteIds, -1);
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            int b = BpeModel.byteTokenValue(e.getKey());
            if (b >= 0) {
                byteIds[b] = e.getValue();
            }
        }
    }

    @Override
    public void tokenize(String piece, IntList out) {
        int n = piece.codePointCount(0, piece.length());
        int[] start = new int[n];
        int[] end = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, k = 0; i < piece.length(); k++) {
            start[k] = i;
            i += Character.charCount(piece.codePointAt(i));
            end[k] = i;
            prev[k] = k - 1;
            next[k] = i < piece.length() ? k + 1 : -1;
        }
        BigramQueue queue = new BigramQueue(n);
        for (int k = 1; k < n; k++) {
            tryAddBigram(piece, start, end, k - 1, k, queue);
        }
        while (!queue.isEmpty()) {
            int b = queue.poll();
            int left = queue.left(b);
            int right = queue.right(b);
            // skip bigrams whose symbols changed since they were queued
            if (end[left] == start[left] || end[right] == start[right]
                    || end[right] - start[left] != queue.length(b) || next[left] != right) {
                continue;
            }
            end[left] = end[right];
            start[right] = end[right];
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            tryAddBigram(piece, start, end, prev[left], left, queue);
            tryAddBigram(piece, start, end, left, next[left], queue);
        }
        for (int k = 0; k >= 0; k = next[k]) {
            emit(piece.substring(start[k], end[k]), out);
        }
    }

    private void tryAddBigram(String piece, int[] start, int[] end, int left, int right, BigramQueue queue) {
        if (left < 0 || right < 0) {
            return;
        }
        Integer id = vocab.get(piece.substring(start[left], end[right]));
        if (id != null) {
            queue.add(scores[id], left, right, end[right] - start[left]);
        }
    }

    private void emit(String symbol, IntList out) {
        Integer id = vocab.get(symbol);
        if (id != null) {
            out.add(id);
            return;
        }
        for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
            int byteId = byteIds[b & 0xFF];
            out.add(byteId >= 0 ? byteId : unkId);
        }
    }

    /** Bigrams in a heap ordered by score (highest first), then left position (lowest first). */
    private static final class BigramQueue {
        private float[] score;
        private int[] left;
        private int[] right;
        private int[] length;
        private int[] heap;
        private int count;
        private int size;

        BigramQueue(int capacity) {
            int c = Math.max(4, capacity);
            score = new float[c];
            left = new int[c];
            right = new int[c];
            length = new int[c];
            heap = new int[c];
        }

        boolean isEmpty() {
            return size == 0;
        }

        int left(int b) {
            return left[b];
        }

        int right(int b) {
            return right[b];
        }

        int length(int b) {
            return length[b];
        }

        void add(float s, int l, int r, int len) {
            if (count == score.length) {
                int c = count * 2;
                score = java.util.Arrays.copyOf(score, c);
                left = java.util.Arrays.copyOf(left, c);
                right = java.util.Arrays.copyOf(right, c);
                length = java.util.Arrays.copyOf(length, c);
            }
            if (size == heap.length) {
                heap = java.util.Arrays.copyOf(heap, size * 2);
            }
            int b = count++;
            score[b] = s;
            left[b] = l;
            right[b] = r;
            length[b] = len;
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (!before(b, heap[parent])) {
                    break;
                }
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = b;
        }

        int poll() {
            int top = heap[0];
            int last = heap[--size];
            int i = 0;
            int half = size >>> 1;
            while (i < half) {
                int child = 2 * i + 1;
                if (child + 1 < size && before(heap[child + 1], heap[child])) {
                    child++;
                }
                if (!before(heap[child], last)) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }

        private boolean before(int a, int b) {
            return score[a] > score[b] || (score[a] == score[b] && left[a] < left[b]);
        }
    }
}
