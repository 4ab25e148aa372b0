package org.retroinfer.model.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.model.Model;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.convert.GgufConverter;
import org.retroinfer.model.transformer.Transformer;

/**
 * The forward pass against Hugging Face transformers: logits of the random fixtures of
 * {@link GoldenFixtures}, computed by transformers in float64 on the GPU machine
 * ({@code tools/golden/make_golden.py}), must match within 1e-3 of the logit scale at every
 * checked position, through chunked prefill and then token-by-token decoding, from the safetensors
 * checkpoint and from a GGUF file converted from it.
 */
class HuggingFaceGoldenTest {
    private static final double TOLERANCE = 1e-3;
    private static final int PREFILLED = 200;
    private static final int CHUNK = 37;

    static Stream<String> fixtures() {
        return GoldenFixtures.FIXTURES.stream().map(GoldenFixtures.Fixture::name);
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void safetensorsCheckpointMatchesTransformers(String name) throws Exception {
        try (Model model = Model.load(fixture(name))) {
            checkAgainstGolden(name, model);
        }
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void ggufConvertedFromTheCheckpointMatchesTransformers(String name, @TempDir Path tmp) throws Exception {
        Path gguf = tmp.resolve(name + ".gguf");
        GgufConverter.convert(fixture(name), gguf, DType.F32);
        try (Model model = Model.load(gguf)) {
            checkAgainstGolden(name, model);
        }
    }

    /**
     * GGUF files with rounded weights run the same model: their logits stay near the goldens (bounds
     * about 2.5x the worst error measured on these fixtures: 4.8e-3 for F16/BF16, 1.9e-2 for Q8_0,
     * 0.26 for Q4_0), and every type but Q4_0 agrees on the most likely token at every position. The
     * random models' logits are nearly flat, so 4-bit weights do swap close candidates.
     */
    @ParameterizedTest
    @MethodSource("fixtures")
    void quantisedGgufFilesStayCloseToTransformers(String name, @TempDir Path tmp) throws Exception {
        JsonNode golden = new ObjectMapper().readTree(fixture(name).resolveSibling(name + ".json").toFile());
        int[] tokens = new ObjectMapper().convertValue(golden.get("tokens"), int[].class);
        for (DType type : new DType[] {DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0}) {
            Path gguf = tmp.resolve(name + "-" + type + ".gguf");
            GgufConverter.convert(fixture(name), gguf, type);
            try (Model model = Model.load(gguf)) {
                float[][] logits = run(model.transformer(), model.config(), tokens);
                double worst = 0;
                int sameTop = 0;
                JsonNode positions = golden.get("positions");
                for (int i = 0; i < positions.size(); i++) {
                    int p = positions.get(i).asInt();
                    JsonNode expected = golden.get("logits").get(i);
                    double scale = 0;
                    double error = 0;
                    int expectedTop = 0;
                    int actualTop = 0;
                    for (int v = 0; v < model.config().vocabSize(); v++) {
                        double e = expected.get(v).asDouble();
                        scale = Math.max(scale, Math.abs(e));
                        error = Math.max(error, Math.abs(e - logits[p][v]));
                        expectedTop = e > expected.get(expectedTop).asDouble() ? v : expectedTop;
                        actualTop = logits[p][v] > logits[p][actualTop] ? v : actualTop;
                    }
                    worst = Math.max(worst, error / scale);
                    sameTop += expectedTop == actualTop ? 1 : 0;
                }
                System.out.printf("%s (gguf %s): worst relative logit error %.2e, same top token at %d of %d positions%n",
                        name, type, worst, sameTop, positions.size());
                assertTrue(worst <= quantisedBound(type), name + " " + type + ": worst relative error " + worst);
                if (type != DType.Q4_0) {
                    assertEquals(positions.size(), sameTop, name + " " + type + ": positions with the same top token");
                }
            }
        }
    }

    private static double quantisedBound(DType type) {
        return switch (type) {
            case F16, BF16 -> 1.2e-2;
            case Q8_0 -> 5e-2;
            default -> 0.6;
        };
    }

    private static void checkAgainstGolden(String name, Model model) throws IOException, URISyntaxException {
        JsonNode golden = new ObjectMapper().readTree(fixture(name).resolveSibling(name + ".json").toFile());
        ModelConfig c = model.config();
        float[] inverse = model.transformer().rope().inverseFrequencies();
        JsonNode expectedInverse = golden.get("inv_freq");
        assertEquals(expectedInverse.size(), inverse.length, "rotary pairs");
        for (int i = 0; i < inverse.length; i++) {
            assertEquals(expectedInverse.get(i).asDouble(), inverse[i], 1e-6 * expectedInverse.get(i).asDouble(),
                    name + " inv_freq[" + i + "]");
        }
        assertEquals(golden.get("attention_scaling").asDouble(), model.transformer().rope().attentionFactor(), 1e-6,
                name + " attention scaling");

        int[] tokens = new ObjectMapper().convertValue(golden.get("tokens"), int[].class);
        float[][] logits = run(model.transformer(), c, tokens);
        JsonNode positions = golden.get("positions");
        double worst = 0;
        for (int i = 0; i < positions.size(); i++) {
            int p = positions.get(i).asInt();
            JsonNode expected = golden.get("logits").get(i);
            double scale = 0;
            double error = 0;
            for (int v = 0; v < c.vocabSize(); v++) {
                double e = expected.get(v).asDouble();
                scale = Math.max(scale, Math.abs(e));
                error = Math.max(error, Math.abs(e - logits[p][v]));
            }
            worst = Math.max(worst, error / scale);
            assertTrue(error <= TOLERANCE * scale, name + " (" + model.format() + ") position " + p + ": max error "
                    + error + " against logit scale " + scale);
        }
        System.out.printf("%s (%s): worst relative logit error %.2e over %d positions (transformers %s)%n", name,
                model.format(), worst, positions.size(), golden.get("transformers").asText());
    }

    /** Logits at every position: chunked prefill of the first tokens, then one token per step. */
    private static float[][] run(Transformer model, ModelConfig c, int[] tokens) {
        float[][] out = new float[tokens.length][];
        AttentionShape shape = new AttentionShape(c.layers(), c.heads(), c.kvHeads(), c.headDim());
        try (DenseKvCache cache = new DenseKvCache(shape, DenseKvCache.Config.defaults())) {
            int seq = cache.openSequence();
            for (int start = 0; start < tokens.length; ) {
                int count = start < PREFILLED ? Math.min(CHUNK, PREFILLED - start) : 1;
                int[] chunk = Arrays.copyOfRange(tokens, start, start + count);
                long[] positions = new long[count];
                int[] rows = new int[count];
                for (int i = 0; i < count; i++) {
                    positions[i] = start + i;
                    rows[i] = i;
                }
                float[] logits = new float[count * c.vocabSize()];
                model.forward(BatchLayout.single(seq, count), chunk, positions, cache, rows, logits);
                for (int i = 0; i < count; i++) {
                    out[start + i] = Arrays.copyOfRange(logits, i * c.vocabSize(), (i + 1) * c.vocabSize());
                }
                start += count;
            }
        }
        return out;
    }

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(HuggingFaceGoldenTest.class.getResource("/golden/" + name + "/config.json").toURI()).getParent();
    }
}
