package org.retroinfer.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.retroinfer.kernels.DType;
import org.retroinfer.model.config.ModelFamily;
import org.retroinfer.model.config.RopeScaling;
import org.retroinfer.model.random.RandomModel;

/**
 * Writes the random model that {@code benchmarks/retro-cpu.sh} decodes with dense and RetroInfer
 * attention. Its shape makes attention the cost being measured on a small CPU:
 * <ul>
 *   <li>head dimension 128 and GQA groups of 4 query heads, as Llama 3 (the spec's kernels assume
 *       d = 128);</li>
 *   <li>2 KV heads, so that a batch of one keeps two cores busy, one head each;</li>
 *   <li>one layer: dense prefill is quadratic (minutes per 64K-token prompt per layer on a 2-core
 *       machine), and every layer's attention costs the same;</li>
 *   <li>a hidden size of 512 (about 6 MiB of weights), so that attention dominates a decode step
 *       as it does for long contexts in real models.</li>
 * </ul>
 *
 * <p>{@code llama3-8b-layer} is one layer of Llama 3 8B's shape instead (hidden 4096, 32 query and 8
 * KV heads, MLP 14336; vocabulary 1024): a layer whose projections and MLP cost what a real
 * model's do, for the index build's share of a realistic prefill.
 *
 * <p>Usage: {@code RetroBenchModel DIR [attention|llama3-8b-layer]}; does nothing where DIR already
 * holds a config.json.
 */
public final class RetroBenchModel {
    /** The benchmark model: Llama 3 style, 128K positions. */
    public static final RandomModel.Spec SPEC = new RandomModel.Spec(ModelFamily.LLAMA, 512, 1024, 1, 8, 2, 128, 1024,
            131072, 500000, new RopeScaling.None(), false, false, DType.BF16, 2026);

    /** One layer of Llama 3 8B's shape, BF16. */
    public static final RandomModel.Spec LLAMA3_8B_LAYER = new RandomModel.Spec(ModelFamily.LLAMA, 4096, 14336, 1, 32,
            8, 128, 1024, 131072, 500000, new RopeScaling.None(), false, false, DType.BF16, 2026);

    private RetroBenchModel() {}

    public static void main(String[] args) {
        if (args.length < 1 || args.length > 2 || (args.length == 2
                && !List.of("attention", "llama3-8b-layer").contains(args[1]))) {
            System.err.println("usage: RetroBenchModel DIR [attention|llama3-8b-layer]");
            System.exit(2);
        }
        RandomModel.Spec spec = args.length == 2 && args[1].equals("llama3-8b-layer") ? LLAMA3_8B_LAYER : SPEC;
        Path dir = Path.of(args[0]);
        if (Files.exists(dir.resolve("config.json"))) {
            System.out.println("using the benchmark model in " + dir);
            return;
        }
        RandomModel.write(dir, spec);
        System.out.println("wrote the benchmark model to " + dir);
    }
}
