package org.retroinfer.examples;

import java.util.Set;
import org.retroinfer.model.config.GenerationDefaults;
import org.retroinfer.model.generation.SamplingParams;

/**
 * The sampling options shared by the commands. Without any of them, the model's recommended
 * settings from generation_config.json apply, and greedy decoding where it recommends none.
 */
final class SamplingFlags {
    static final Set<String> NAMES = Set.of("temperature", "top-p", "top-k", "min-p", "repeat-penalty", "seed");
    static final String HELP = """
              --temperature T    0 for greedy decoding (default: the model's generation_config.json, else 0)
              --top-p P          nucleus sampling mass in (0, 1] (default: the model's, else 1)
              --top-k K          keep the K most likely tokens, 0 for all (default: the model's, else 0)
              --min-p M          drop tokens below M x the top probability, in [0, 1) (default 0)
              --repeat-penalty R penalise tokens already in the sequence, 1 for none (default 1)
              --seed S           random seed for sampling (default: random, reported in --json output)
            """;

    private SamplingFlags() {}

    static SamplingParams read(Options o, GenerationDefaults defaults) {
        boolean any = NAMES.stream().anyMatch(n -> !n.equals("seed") && o.has(n));
        double temperature = o.number("temperature", any ? 0 : defaults.temperature().orElse(0), 0, 100, true);
        double topP = o.number("top-p", any ? 1 : defaults.topP().orElse(1), 0, 1, false);
        int topK = o.integer("top-k", any ? 0 : defaults.topK().orElse(0), 0, Integer.MAX_VALUE);
        double minP = o.number("min-p", 0, 0, true, 1, false);
        double penalty = o.number("repeat-penalty", 1, 0, 10, false);
        long seed = o.longValue("seed", System.nanoTime());
        return new SamplingParams(temperature, topP, topK, minP, penalty, seed);
    }
}
