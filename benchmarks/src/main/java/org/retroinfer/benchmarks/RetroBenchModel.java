package org.retroinfer.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
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
 * <p>Usage: {@code RetroBenchModel DIR}; does nothing where DIR already holds a config.json.
 */
public final class RetroBenchModel {
    /** The benchmark model: Llama 3 style, 128K positions. */
    public static final RandomModel.Spec SPEC = new RandomModel.Spec(ModelFamily.LLAMA, 512, 1024, 1, 8, 2, 128, 1024,
            131072, 500000, new RopeScaling.None(), false, false, DType.BF16, 2026);

    private RetroBenchModel() {}

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: RetroBenchModel DIR");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        if (Files.exists(dir.resolve("config.json"))) {
            System.out.println("using the benchmark model in " + dir);
            return;
        }
        RandomModel.write(dir, SPEC);
        System.out.println("wrote the benchmark model to " + dir);
    }
}
