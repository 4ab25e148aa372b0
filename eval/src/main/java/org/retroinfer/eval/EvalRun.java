package org.retroinfer.eval;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.model.Model;
import org.retroinfer.model.generation.Completion;
import org.retroinfer.model.generation.GenerationListener;
import org.retroinfer.model.generation.GenerationRequest;
import org.retroinfer.model.generation.GenerationResult;
import org.retroinfer.model.generation.Generator;
import org.retroinfer.model.generation.SamplingParams;
import org.retroinfer.model.tokenizer.Tokenizer;

/**
 * Runs samples through a model under one or more attention modes: each prompt is prefilled, then
 * decoded greedily until the answer ends (end-of-sequence or a newline) or for at most the answer's
 * length plus two tokens (quality.py's greedy check), and scored by {@link Scorer}. Each sample gets
 * a fresh KV cache per mode, all filled by one shared prefill ({@link PrefillFanOut}); samples run
 * one at a time, every compute thread on each.
 */
public final class EvalRun {
    /** Tokens decoded beyond the answer's length at most: room to show what the model wrote instead. */
    static final int EXTRA_TOKENS = 2;

    private final Model model;
    private final List<AttentionMode> modes;
    private final int prefillChunk;
    private final Scorer scorer;
    private final EvalBackend backend;

    public EvalRun(Model model, List<AttentionMode> modes, int prefillChunk) {
        this(model, modes, prefillChunk, EvalBackend.cpu(model));
    }

    /** Runs on {@code backend} (the CPU's, or a GPU session's). */
    public EvalRun(Model model, List<AttentionMode> modes, int prefillChunk, EvalBackend backend) {
        if (modes.isEmpty()) {
            throw new IllegalArgumentException("an evaluation needs at least one attention mode");
        }
        Set<String> names = new HashSet<>();
        for (AttentionMode m : modes) {
            if (!names.add(m.name())) {
                throw new IllegalArgumentException("attention mode " + m.name() + " is given twice");
            }
        }
        this.model = model;
        this.modes = List.copyOf(modes);
        this.prefillChunk = prefillChunk;
        this.scorer = new Scorer(model.tokenizer(), new HashSet<>(model.generationDefaults().eosTokenIds()));
        this.backend = backend;
    }

    public List<AttentionMode> modes() {
        return modes;
    }

    /**
     * Tokenizes every prompt and checks that the samples belong to this model before anything
     * runs: the token counts the samples record, and the model's context.
     *
     * @throws EvalInputException naming the first sample that does not fit
     */
    public List<int[]> tokenize(List<Sample> samples) {
        Tokenizer tokenizer = model.tokenizer();
        int positions = model.config().maxPositions();
        List<int[]> prompts = new ArrayList<>(samples.size());
        for (Sample s : samples) {
            int[] tokens = tokenizer.encode(s.prompt(), true);
            if (tokens.length != s.length()) {
                throw new EvalInputException(s.label() + ": the prompt is " + tokens.length
                        + " tokens with the tokenizer of " + model.path() + " but the sample says " + s.length()
                        + "; the samples were made for another model's tokenizer");
            }
            // room for the answer and the token that ends it; tokens beyond are only for showing a wrong answer
            if ((long) tokens.length + s.answerLength() + 1 > positions) {
                throw new EvalInputException(s.label() + ": the prompt and its answer need "
                        + (tokens.length + s.answerLength() + 1) + " positions but " + model.path() + " has "
                        + positions + "; leave this length out");
            }
            prompts.add(tokens);
        }
        return prompts;
    }

    /** Runs every sample under every mode, sample by sample, and returns the results in that order. */
    public List<SampleResult> run(List<Sample> samples, EvalListener listener) {
        return run(samples, tokenize(samples), listener);
    }

    /** As {@link #run(List, EvalListener)}, with the prompts {@link #tokenize} returned for the samples. */
    public List<SampleResult> run(List<Sample> samples, List<int[]> prompts, EvalListener listener) {
        if (prompts.size() != samples.size()) {
            throw new IllegalArgumentException(samples.size() + " samples but " + prompts.size() + " prompts");
        }
        List<SampleResult> results = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            Sample sample = samples.get(i);
            for (SampleResult r : run(sample, prompts.get(i), listener)) {
                results.add(r);
                listener.finished(sample, r);
            }
        }
        return results;
    }

    /**
     * One sample under every mode: the prompt is prefilled once for all the modes' caches
     * ({@link PrefillFanOut}), then each mode decodes from its own cache. Every result reports the
     * shared prefill's time.
     */
    private List<SampleResult> run(Sample sample, int[] prompt, EvalListener listener) {
        GenerationRequest request = new GenerationRequest(prompt, sample.answerLength() + EXTRA_TOKENS,
                SamplingParams.greedy(), scorer.stopTokens());
        GenerationListener progress = new GenerationListener() {
            @Override
            public void prefilled(int index, long done, long total) {
                listener.prefilled(sample, done, total);
            }
        };
        if (!backend.sharesPrefill()) {
            return separately(sample, prompt, request, progress);
        }
        List<KvCache> caches = new ArrayList<>();
        try {
            for (AttentionMode mode : modes) {
                caches.add(backend.cache(mode, (long) prompt.length + request.maxNewTokens()));
            }
            PrefillFanOut fanOut = new PrefillFanOut(caches);
            int sequence = fanOut.openSequence();
            try {
                long start = System.nanoTime();
                float[] logits = new Generator(backend.forward(), fanOut, prefillChunk)
                        .prefill(0, sequence, prompt, progress);
                double prefillMillis = (System.nanoTime() - start) / 1e6;
                List<SampleResult> results = new ArrayList<>();
                for (int m = 0; m < modes.size(); m++) {
                    GenerationResult result = new Generator(backend.forward(), caches.get(m), prefillChunk)
                            .continuePrefilled(fanOut.member(sequence, m), request, logits, GenerationListener.NONE);
                    results.add(result(sample, prompt, modes.get(m), result, prefillMillis));
                }
                return results;
            } finally {
                fanOut.closeSequence(sequence);
            }
        } finally {
            caches.forEach(KvCache::close);
        }
    }

    /** One sample under every mode, each prefilling its own cache: each result reports its own prefill's time. */
    private List<SampleResult> separately(Sample sample, int[] prompt, GenerationRequest request, GenerationListener progress) {
        List<SampleResult> results = new ArrayList<>();
        for (AttentionMode mode : modes) {
            try (KvCache cache = backend.cache(mode, (long) prompt.length + request.maxNewTokens())) {
                GenerationResult result = new Generator(backend.forward(), cache, prefillChunk).generate(List.of(request), progress);
                results.add(result(sample, prompt, mode, result, result.stats().prefillNanos() / 1e6));
            }
        }
        return results;
    }

    private SampleResult result(Sample sample, int[] prompt, AttentionMode mode, GenerationResult result,
                                double prefillMillis) {
        Completion completion = result.completions().getFirst();
        int[] generated = completion.tokens();
        Score score = scorer.score(sample, generated);
        return new SampleResult(sample.task(), sample.targetLength(), sample.index(),
                sample.seedHex(), mode.name(), prompt.length, sample.answer(),
                model.tokenizer().decode(generated, false), score.prediction(), score.exact(), score.stringMatchAll(),
                score.stringMatchPart(), generated.length, prefillMillis, result.stats().decodeNanos() / 1e6);
    }
}
