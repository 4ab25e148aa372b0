package org.retroinfer.examples;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.retroinfer.eval.EvalTask;
import org.retroinfer.eval.Sample;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.FidelityProbe;
import org.retroinfer.kvstore.SparseKvCache;
import org.retroinfer.kvstore.baseline.QuestConfig;
import org.retroinfer.kvstore.baseline.QuestKvCache;
import org.retroinfer.kvstore.baseline.StreamingLlmConfig;
import org.retroinfer.kvstore.baseline.StreamingLlmKvCache;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.retro.RetroKvCache;
import org.retroinfer.model.Model;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.generation.GenerationListener;
import org.retroinfer.model.generation.Generator;

/**
 * An example diagnostic: where a sparse attention loses a copied answer. One sample of
 * {@code eval ruler} (seed 1) is prefilled, then its exact answer is fed token by token (teacher
 * forcing) while a {@link FidelityProbe} checks each sparse mode; for every answer token and layer
 * it prints the share of query heads whose highest-scoring position the mode attends exactly (the
 * position a copying head must read). A layer stuck below 1 while the answer is copied is where a
 * wrong token comes from.
 *
 * <pre>java ... org.retroinfer.examples.CopyStepRecall MODEL TASK LENGTH INDEX [retro|quest|streaming ...]</pre>
 */
public final class CopyStepRecall {
    private CopyStepRecall() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length < 4) {
            err.println("usage: CopyStepRecall MODEL TASK LENGTH INDEX [retro|quest|streaming ...] (default: retro quest)");
            return 2;
        }
        Path dir = Path.of(args[0]);
        EvalTask task = EvalTask.byId(args[1]).orElse(null);
        List<String> modes = args.length > 4 ? List.of(args).subList(4, args.length) : List.of("retro", "quest");
        if (!Files.isDirectory(dir) || task == null || !args[2].matches("\\d+") || !args[3].matches("\\d+")
                || !List.of("retro", "quest", "streaming").containsAll(modes)) {
            err.println("CopyStepRecall: MODEL must be a model directory, TASK one of " + EvalTask.ids()
                    + ", LENGTH and INDEX whole numbers, modes retro, quest or streaming; got " + String.join(" ", args));
            return 2;
        }
        try (Model model = Model.load(dir)) {
            CopySample copy = CopySample.load(dir, model, task, Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            Sample s = copy.sample();
            int[] prompt = copy.prompt(), answer = copy.answer();
            ModelConfig c = model.config();
            AttentionShape shape = c.attentionShape();
            out.printf("%s: %d prompt tokens, answer '%s' (%d tokens)%n", s.label(), prompt.length, s.answer().strip(),
                    answer.length);
            for (String mode : modes) {
                SparseKvCache sparse = switch (mode) {
                    case "retro" -> new RetroKvCache(shape, RetroConfig.defaults());
                    case "quest" -> new QuestKvCache(shape, QuestConfig.defaults());
                    default -> new StreamingLlmKvCache(shape, StreamingLlmConfig.defaults());
                };
                try (FidelityProbe probe = new FidelityProbe(sparse)) {
                    out.print(steps(model, probe, prompt, answer, mode));
                }
            }
        }
        return 0;
    }

    /** The table of one mode: the probe's cumulative per-layer averages, differenced step by step. */
    private static String steps(Model model, FidelityProbe probe, int[] prompt, int[] answer, String mode) {
        int layers = model.config().layers();
        int sequence = probe.openSequence();
        new Generator(model.transformer(), probe, 512).prefill(0, sequence, prompt, GenerationListener.NONE);
        StringBuilder b = new StringBuilder("\n").append(mode).append(": share of query heads whose top position is "
                + "attended exactly, per answer token and layer\n| step | token |");
        for (int l = 0; l < layers; l++) {
            b.append(" layer ").append(l).append(" |");
        }
        b.append("\n| ---: | --- |").append(" ---: |".repeat(layers)).append('\n');
        double[] before = new double[layers];
        long[] counted = new long[layers];
        for (int step = 0; step < answer.length; step++) {
            float[] logits = new float[model.config().vocabSize()];
            model.transformer().forward(BatchLayout.single(sequence, 1), new int[] {answer[step]},
                    new long[] {prompt.length + step}, probe, new int[] {0}, logits);
            b.append("| ").append(step).append(" | `")
                    .append(model.tokenizer().decode(new int[] {answer[step]}, false).replace("\n", "\\n")).append("` |");
            List<FidelityProbe.LayerFidelity> f = probe.fidelity();
            for (int l = 0; l < layers; l++) {
                double sum = f.get(l).recallAt1() * f.get(l).samples();
                double share = (sum - before[l]) / (f.get(l).samples() - counted[l]);
                before[l] = sum;
                counted[l] = f.get(l).samples();
                b.append(String.format(" %.2f |", share));
            }
            b.append('\n');
        }
        probe.closeSequence(sequence);
        return b.toString();
    }
}
