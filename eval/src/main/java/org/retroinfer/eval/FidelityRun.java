package org.retroinfer.eval;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.retroinfer.kvstore.FidelityProbe;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.kvstore.SparseKvCache;
import org.retroinfer.model.Model;
import org.retroinfer.model.generation.GenerationListener;
import org.retroinfer.model.generation.GenerationRequest;
import org.retroinfer.model.generation.Generator;
import org.retroinfer.model.generation.SamplingParams;

/**
 * Attention fidelity of sparse modes on a model's own activations: each sample's prompt is
 * prefilled once into a {@link FidelityProbe} per sparse mode ({@link PrefillFanOut}); each probe
 * then decodes the answer greedily with exact attention while, at every decode step of every
 * layer, its sparse cache answers the same queries from the same keys and values, and the probe
 * records the relative output error, the attention mass covered and the top-100 recall.
 */
public final class FidelityRun {
    private final Model model;
    private final List<AttentionMode> modes;
    private final int prefillChunk;

    public FidelityRun(Model model, List<AttentionMode> modes, int prefillChunk) {
        for (AttentionMode m : modes) {
            try (KvCache probe = m.create(model.config())) {
                if (!(probe instanceof SparseKvCache)) {
                    throw new IllegalArgumentException("fidelity measures sparse attention; " + m.name() + " is exact");
                }
            }
        }
        this.model = model;
        this.modes = List.copyOf(modes);
        this.prefillChunk = prefillChunk;
    }

    /** One mode's measurements on one sample, per layer. */
    public record SampleFidelity(Sample sample, String attention, List<FidelityProbe.LayerFidelity> layers) {}

    /** Measures every sample under every mode, sample by sample. */
    public List<SampleFidelity> run(List<Sample> samples, List<int[]> prompts, EvalListener listener) {
        Scorer scorer = new Scorer(model.tokenizer(), new HashSet<>(model.generationDefaults().eosTokenIds()));
        List<SampleFidelity> all = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            Sample sample = samples.get(i);
            int[] prompt = prompts.get(i);
            GenerationRequest request = new GenerationRequest(prompt, sample.answerLength() + EvalRun.EXTRA_TOKENS,
                    SamplingParams.greedy(), scorer.stopTokens());
            List<FidelityProbe> probes = new ArrayList<>();
            try {
                for (AttentionMode m : modes) {
                    probes.add(new FidelityProbe((SparseKvCache) m.create(model.config())));
                }
                PrefillFanOut fanOut = new PrefillFanOut(List.copyOf(probes));
                int sequence = fanOut.openSequence();
                try {
                    float[] logits = new Generator(model.transformer(), fanOut, prefillChunk).prefill(0, sequence, prompt,
                            new GenerationListener() {
                                @Override
                                public void prefilled(int index, long done, long total) {
                                    listener.prefilled(sample, done, total);
                                }
                            });
                    for (int m = 0; m < modes.size(); m++) {
                        new Generator(model.transformer(), probes.get(m), prefillChunk)
                                .continuePrefilled(fanOut.member(sequence, m), request, logits, GenerationListener.NONE);
                        all.add(new SampleFidelity(sample, modes.get(m).name(), probes.get(m).fidelity()));
                    }
                } finally {
                    fanOut.closeSequence(sequence);
                }
            } finally {
                probes.forEach(KvCache::close);
            }
        }
        return all;
    }
}
