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
