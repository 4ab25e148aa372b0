package org.retroinfer.model.golden;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.retroinfer.kernels.DType;
import org.retroinfer.model.config.ModelFamily;
import org.retroinfer.model.config.RopeScaling;
import org.retroinfer.model.random.RandomModel;

/**
 * The random models whose logits Hugging Face transformers computed for {@link HuggingFaceGoldenTest}.
 * Run once to (re)write the fixtures; the goldens then come from {@code tools/golden/make_golden.py}
 * on the GPU machine:
 * <pre>
 *   java ... org.retroinfer.model.golden.GoldenFixtures model/src/test/resources/golden
 * </pre>
 * Each fixture covers one family and one way of scaling RoPE; prompts run past the original
 * context of the scaled ones so the scaling is exercised.
 */
public final class GoldenFixtures {
    /** A fixture's name and its model. */
    public record Fixture(String name, RandomModel.Spec spec) {}

    /** Prompt length and the positions whose logits are compared. */
    public static final int PROMPT_TOKENS = 320;
    public static final List<Integer> POSITIONS = List.of(0, 1, 2, 31, 63, 64, 65, 127, 128, 200, 255, 256, 300, 319);

    public static final List<Fixture> FIXTURES = List.of(
            new Fixture("qwen2-bias-tied", new RandomModel.Spec(ModelFamily.QWEN2, 64, 160, 2, 4, 2, 16, 512, 4096,
                    1_000_000, new RopeScaling.None(), true, true, DType.BF16, 1)),
            new Fixture("llama31-scaled", new RandomModel.Spec(ModelFamily.LLAMA, 64, 128, 2, 4, 1, 16, 512, 1024,
                    500_000, new RopeScaling.Llama3(8, 1, 4, 64), false, false, DType.F16, 2)),
            new Fixture("qwen3-yarn", new RandomModel.Spec(ModelFamily.QWEN3, 64, 128, 2, 4, 2, 32, 512, 512,
                    1_000_000, new RopeScaling.Yarn(4, 128, 32, 1, 0.1 * Math.log(4) + 1, true), false, false,
                    DType.BF16, 3)),
            new Fixture("mistral-f32", new RandomModel.Spec(ModelFamily.MISTRAL, 64, 128, 2, 4, 2, 16, 512, 2048,
                    1_000_000, new RopeScaling.None(), false, false, DType.F32, 4)));

    private GoldenFixtures() {}

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args.length > 0 ? args[0] : "model/src/test/resources/golden");
        ObjectMapper json = new ObjectMapper();
        for (Fixture f : FIXTURES) {
            Path dir = root.resolve(f.name());
            int vocab = RandomModel.write(dir, f.spec());
            Random random = new Random(f.spec().seed());
            ObjectNode inputs = json.createObjectNode();
            int[] tokens = random.ints(PROMPT_TOKENS, 0, vocab).toArray();
            inputs.putPOJO("tokens", tokens);
            inputs.putPOJO("positions", POSITIONS);
            json.writeValue(dir.resolve("inputs.json").toFile(), inputs);
            System.out.println(dir + ": vocabulary " + vocab);
        }
    }
}
