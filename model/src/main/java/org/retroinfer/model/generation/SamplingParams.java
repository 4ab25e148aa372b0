package org.retroinfer.model.generation;

/**
 * How the next token is chosen from the logits. Temperature 0 is greedy decoding; otherwise the
 * logits are divided by the temperature and the distribution is cut by top-k, then top-p (the
 * smallest set of tokens whose mass reaches {@code topP}), then min-p (tokens less likely than
 * {@code minP} times the most likely one), in the order Hugging Face applies them. The repetition
 * penalty (CTRL-style, as in transformers) applies first, to every token already in the sequence.
 *
 * @param topK 0 turns top-k off
 * @param minP 0 turns min-p off
 */
public record SamplingParams(double temperature, double topP, int topK, double minP, double repetitionPenalty,
                             long seed) {
    public SamplingParams {
        if (!(temperature >= 0 && temperature <= 100)) {
            throw new IllegalArgumentException("temperature must be in [0, 100], got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be 0 (off) or positive, got " + topK);
        }
        if (!(minP >= 0 && minP < 1)) {
            throw new IllegalArgumentException("min-p must be in [0, 1), got " + minP);
        }
        if (!(repetitionPenalty > 0 && repetitionPenalty <= 10)) {
            throw new IllegalArgumentException("repetition penalty must be in (0, 10], got " + repetitionPenalty);
        }
    }

    public static SamplingParams greedy() {
        return new SamplingParams(0, 1, 0, 0, 1, 0);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }
}
