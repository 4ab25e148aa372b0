package org.retroinfer.examples;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import org.retroinfer.kernels.DType;
import org.retroinfer.model.convert.GgufConverter;

/**
 * {@code retroinfer convert}: writes a Hugging Face checkpoint as a GGUF file, as llama.cpp's
 * {@code convert_hf_to_gguf.py} would, so that the same model runs from either format.
 */
final class ConvertCommand implements Command {
    private static final Set<String> VALUED = Set.of("model", "out", "type");

    @Override
    public String name() {
        return "convert";
    }

    @Override
    public String summary() {
        return "write a Hugging Face model directory as a GGUF file (f32, f16, bf16, q8_0, q4_0)";
    }

    @Override
    public String help() {
        return """
                usage: retroinfer convert --model DIR --out FILE.gguf [--type TYPE]

                Writes the Hugging Face checkpoint in DIR (config.json, safetensors, tokenizer.json,
                generation_config.json) as one GGUF file with llama.cpp's metadata, tensor names and
                vocabulary: norms and biases in F32, matrices in TYPE. RetroInfer, and llama.cpp, load it
                with --model FILE.gguf.

                  --model DIR    the Hugging Face model directory
                  --out FILE     the GGUF file to write (not overwritten if it exists)
                  --type TYPE    f32, f16, bf16, q8_0 or q4_0 (default bf16); q8_0 and q4_0 need
                                 every matrix row to be a multiple of 32 values
                """;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) {
        Options o = Options.parse(name(), args, VALUED, Set.of());
        Path model = o.existingPath("model", "the Hugging Face model directory");
        if (!Files.isRegularFile(model.resolve("config.json"))) {
            throw o.error("--model " + model + " is not a Hugging Face model directory (no config.json); "
                    + "name the directory holding config.json and the safetensors");
        }
        Path output = Path.of(o.requireText("out", "the GGUF file to write"));
        if (Files.exists(output)) {
            throw o.error("--out " + output + " exists; remove it or name another file");
        }
        String typeName = o.text("type").orElse("bf16");
        DType type = switch (typeName.toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "f16" -> DType.F16;
            case "bf16" -> DType.BF16;
            case "q8_0" -> DType.Q8_0;
            case "q4_0" -> DType.Q4_0;
            default -> throw o.error("--type " + typeName + " is not one of f32, f16, bf16, q8_0, q4_0");
        };
        long start = System.nanoTime();
        GgufConverter.convert(model, output, type);
        out.printf(Locale.ROOT, "wrote %s (%s matrices, %.1f MiB) in %.1f s%n", output, type,
                sizeMiB(output), (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private static double sizeMiB(Path file) {
        try {
            return Files.size(file) / (1024.0 * 1024.0);
        } catch (java.io.IOException e) {
            return Double.NaN;
        }
    }
}
