package org.retroinfer.model.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.model.Model;
import org.retroinfer.model.config.ModelConfig;

/**
 * The project's trained model, retro-tiny, against Hugging Face transformers: the same prompt text
 * gives the same token ids, and the logits at the checked positions (one prompt longer than 8K
 * tokens) agree within 1e-3 of the logit scale. Goldens: {@code models/retro-tiny/golden/}, made at the
 * end of its training run (tools/train-tiny/golden.py, transformers in float64).
 */
class RetroTinyGoldenTest {
    private static final Path MODEL = Path.of("..", "models", "retro-tiny");

    @ParameterizedTest
    @ValueSource(strings = {"retro-tiny-code", "retro-tiny-vt-2k", "retro-tiny-needle-9k"})
    void tokensAndLogitsMatchTransformers(String name) throws Exception {
        JsonNode golden = new ObjectMapper().readTree(MODEL.resolve("golden").resolve(name + ".json").toFile());
        int[] expectedTokens = new ObjectMapper().convertValue(golden.get("tokens"), int[].class);
        try (Model model = Model.load(MODEL)) {
            assertArrayEquals(expectedTokens, model.tokenizer().encode(golden.get("text").asText(), true),
                    name + ": token ids of the prompt");
            ModelConfig c = model.config();
            int[] positions = new ObjectMapper().convertValue(golden.get("positions"), int[].class);
            float[][] logits = logitsAt(model, expectedTokens, positions);
            double worst = 0;
            for (int i = 0; i < positions.length; i++) {
                JsonNode expected = golden.get("logits").get(i);
                double scale = 0;
                double error = 0;
                for (int v = 0; v < c.vocabSize(); v++) {
                    scale = Math.max(scale, Math.abs(expected.get(v).asDouble()));
                    error = Math.max(error, Math.abs(expected.get(v).asDouble() - logits[i][v]));
                }
                worst = Math.max(worst, error / scale);
                assertTrue(error <= 1e-3 * scale, name + " position " + positions[i] + ": max error " + error
                        + " against logit scale " + scale);
            }
            System.out.printf("%s: %d tokens, worst relative logit error %.2e%n", name, expectedTokens.length, worst);
        }
    }

    /** Logits at the given positions after a chunked prefill of the whole prompt. */
    private static float[][] logitsAt(Model model, int[] tokens, int[] positions) {
        ModelConfig c = model.config();
        float[][] out = new float[positions.length][];
        int chunk = 512;
        try (DenseKvCache cache = new DenseKvCache(new AttentionShape(c.layers(), c.heads(), c.kvHeads(), c.headDim()),
                DenseKvCache.Config.defaults())) {
            int seq = cache.openSequence();
            for (int start = 0; start < tokens.length; start += chunk) {
                int count = Math.min(chunk, tokens.length - start);
                int from = start;
                int[] wanted = Arrays.stream(positions).filter(p -> p >= from && p < from + count).toArray();
                long[] pos = new long[count];
                for (int i = 0; i < count; i++) {
                    pos[i] = start + i;
                }
                int[] rows = Arrays.stream(wanted).map(p -> p - from).toArray();
                float[] logits = new float[Math.max(1, rows.length) * c.vocabSize()];
                model.transformer().forward(BatchLayout.single(seq, count), Arrays.copyOfRange(tokens, start, start + count),
                        pos, cache, rows, logits);
                for (int i = 0; i < wanted.length; i++) {
                    int index = Arrays.stream(positions).boxed().toList().indexOf(wanted[i]);
                    out[index] = Arrays.copyOfRange(logits, i * c.vocabSize(), (i + 1) * c.vocabSize());
                }
            }
        }
        assertTrue(Stream.of(out).allMatch(r -> r != null), "every checked position was computed");
        return out;
    }
}
