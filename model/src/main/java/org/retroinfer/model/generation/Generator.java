package org.retroinfer.model.generation;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.model.transformer.ForwardPass;

/**
 * Turns prompts into completions: each prompt is prefilled in chunks, then every sequence still
 * running advances one token per lock-step decode step, however different their lengths.
 */
public final class Generator {
    public static final int DEFAULT_PREFILL_CHUNK = 256;

    private final ForwardPass model;
    private final KvCache cache;
    private final int prefillChunk;

    public Generator(ForwardPass model, KvCache cache, int prefillChunk) {
        if (prefillChunk < 1) {
            throw new IllegalArgumentException("prefill chunk must be at least 1 token, got " + prefillChunk);
        }
        this.model = model;
        this.cache = cache;
        this.prefillChunk = prefillChunk;
    }

    /** One sequence in flight. */
    private static final class Running {
        final int index;
        final GenerationRequest request;
        final int sequence;
        final Sampler sampler;
        final BitSet seen = new BitSet();
        final List<Integer> generated = new ArrayList<>();
        long position;
        Completion.StopReason stopped;

        Running(int index, GenerationRequest request, int sequence) {
            this.index = index;
            this.request = request;
            this.sequence = sequence;
            this.sampler = new Sampler(request.sampling());
            for (int t : request.prompt()) {
                seen.set(t);
            }
        }
    }

    public GenerationResult generate(List<GenerationRequest> requests, GenerationListener listener) {
        for (GenerationRequest r : requests) {
            checkFits(r.prompt().length);
        }
        List<Running> running = new ArrayList<>();
        try {
            for (int i = 0; i < requests.size(); i++) {
                running.add(new Running(i, requests.get(i), cache.openSequence()));
            }
            long prefillStart = System.nanoTime();
            long promptTokens = 0;
            long peakKv = 0;
            for (Running r : running) {
                float[] logits = prefill(r.index, r.sequence, r.request.prompt(), listener);
                r.position = r.request.prompt().length;
                promptTokens += r.request.prompt().length;
                peakKv = Math.max(peakKv, cache.memoryBytes());
                accept(r, r.sampler.sample(logits, 0, model.config().vocabSize(), r.seen), listener);
            }
            return decode(running, promptTokens, System.nanoTime() - prefillStart, peakKv, listener);
        } finally {
            for (Running r : running) {
                cache.closeSequence(r.sequence);
            }
        }
    }

    /**
     * Decodes one sequence whose prompt is already in this generator's cache, prefilled elsewhere
     * ({@link #prefill}; e.g. once for several caches at a time): samples the first token from
     * the logits after the prompt, then decodes as {@link #generate} does. The sequence stays open;
     * the stats count the prompt but no prefill time.
     */
    public GenerationResult continuePrefilled(int sequence, GenerationRequest request, float[] promptLogits,
                                              GenerationListener listener) {
        checkFits(request.prompt().length);
        Running r = new Running(0, request, sequence);
        r.position = request.prompt().length;
        accept(r, r.sampler.sample(promptLogits, 0, model.config().vocabSize(), r.seen), listener);
        return decode(List.of(r), request.prompt().length, 0, cache.memoryBytes(), listener);
    }

    private void checkFits(int promptTokens) {
        int contextLimit = model.config().maxPositions();
        if (promptTokens > contextLimit) {
            throw new IllegalArgumentException("a prompt of " + promptTokens
                    + " tokens is longer than the model's context of " + contextLimit + " tokens");
        }
    }

    /** Lock-step decoding of every sequence not yet stopped, one token each per step. */
    private GenerationResult decode(List<Running> running, long promptTokens, long prefillNanos, long peakKv,
                                    GenerationListener listener) {
        long decodeStart = System.nanoTime();
        long decodeTokens = 0;
        long steps = 0;
        List<Running> active = running.stream().filter(r -> r.stopped == null).toList();
        while (!active.isEmpty()) {
            int n = active.size();
            int[] sequences = new int[n];
            int[] tokens = new int[n];
            long[] positions = new long[n];
            int[] rows = new int[n];
            for (int i = 0; i < n; i++) {
                Running r = active.get(i);
                sequences[i] = r.sequence;
                tokens[i] = r.generated.getLast();
                positions[i] = r.position;
                rows[i] = i;
            }
            int[] next = NextTokens.step(model, BatchLayout.oneRowEach(sequences), tokens, positions, cache, rows,
                    active.stream().map(r -> r.sampler).toArray(Sampler[]::new), active.stream().map(r -> r.seen).toArray(BitSet[]::new));
            peakKv = Math.max(peakKv, cache.memoryBytes());
            for (int i = 0; i < n; i++) {
                Running r = active.get(i);
                r.position++;
                accept(r, next[i], listener);
            }
            decodeTokens += n;
            steps++;
            active = active.stream().filter(r -> r.stopped == null).toList();
        }
        long decodeNanos = System.nanoTime() - decodeStart;
        List<Completion> completions = running.stream()
                .map(r -> new Completion(r.generated.stream().mapToInt(Integer::intValue).toArray(), r.stopped,
                        r.request.prompt().length))
                .toList();
        return new GenerationResult(completions,
                new GenerationStats(promptTokens, prefillNanos, decodeTokens, steps, decodeNanos, peakKv));
    }

    /**
     * Feeds the whole prompt of an open sequence in chunks, tells the cache that its prefill is
     * over, and returns the logits after the prompt's last token. {@code index} names the prompt
     * in the listener's progress calls.
     */
    public float[] prefill(int index, int sequence, int[] prompt, GenerationListener listener) {
        checkFits(prompt.length);
        float[] logits = new float[model.config().vocabSize()];
        for (int start = 0; start < prompt.length; start += prefillChunk) {
            int count = Math.min(prefillChunk, prompt.length - start);
            int[] tokens = new int[count];
            long[] positions = new long[count];
            for (int i = 0; i < count; i++) {
                tokens[i] = prompt[start + i];
                positions[i] = start + i;
            }
            boolean last = start + count == prompt.length;
            model.forward(BatchLayout.single(sequence, count), tokens, positions, cache,
                    last ? new int[] {count - 1} : new int[0], logits);
            listener.prefilled(index, start + count, prompt.length);
        }
        cache.endOfPrefill(sequence);
        return logits;
    }

    /** Records a sampled token and decides whether its sequence stops. */
    private void accept(Running r, int token, GenerationListener listener) {
        int contextLimit = model.config().maxPositions();
        if (r.request.maxNewTokens() == 0) {
            r.stopped = Completion.StopReason.MAX_TOKENS;
            return;
        }
        r.generated.add(token);
        r.seen.set(token);
        listener.token(r.index, token);
        if (r.request.stopTokens().contains(token)) {
            r.stopped = Completion.StopReason.STOP_TOKEN;
        } else if (r.generated.size() >= r.request.maxNewTokens()) {
            r.stopped = Completion.StopReason.MAX_TOKENS;
        } else if (r.position >= contextLimit) {
            r.stopped = Completion.StopReason.CONTEXT_FULL;
        }
    }
}
