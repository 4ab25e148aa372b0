package org.retroinfer.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code retroinfer convert}: the project's model as GGUF decodes as it does from safetensors. */
class ConvertCommandTest {
    @TempDir
    Path dir;

    @Test
    void retroTinyConvertedToBf16GgufGeneratesTheSameGreedyTokens() throws Exception {
        Path gguf = dir.resolve("retro-tiny-bf16.gguf");
        CliHarness convert = CliHarness.run("convert", "--model", EvalCommandTest.RETRO_TINY.toString(),
                "--out", gguf.toString(), "--type", "bf16");
        assertEquals(0, convert.exitCode(), convert.err());
        assertTrue(convert.out().startsWith("wrote " + gguf), convert.out());
        // BF16 weights as in the safetensors, the vocabulary carried over: the same model.
        String prompt = "import os\n\n\ndef list_python_files(root):\n";
        assertEquals(tokens(EvalCommandTest.RETRO_TINY.toString(), prompt), tokens(gguf.toString(), prompt));
    }

    @Test
    void anExistingOutputOrAnUnknownTypeIsOneLineAndExitTwo() throws Exception {
        Path taken = Files.writeString(dir.resolve("taken.gguf"), "x");
        CliHarness exists = CliHarness.run("convert", "--model", EvalCommandTest.RETRO_TINY.toString(),
                "--out", taken.toString());
        assertEquals(2, exists.exitCode());
        assertEquals("retroinfer convert: --out " + taken + " exists; remove it or name another file",
                exists.err().strip().lines().reduce((a, b) -> b).orElseThrow());
        CliHarness type = CliHarness.run("convert", "--model", EvalCommandTest.RETRO_TINY.toString(),
                "--out", dir.resolve("x.gguf").toString(), "--type", "q5_k");
        assertEquals(2, type.exitCode());
        assertTrue(type.err().strip().endsWith("--type q5_k is not one of f32, f16, bf16, q8_0, q4_0"), type.err());
    }

    private static JsonNode tokens(String model, String prompt) throws Exception {
        CliHarness r = CliHarness.run("generate", "--model", model, "--prompt", prompt, "--max-tokens", "24", "--json");
        assertEquals(0, r.exitCode(), r.err());
        return new ObjectMapper().readTree(r.out()).get("tokens");
    }
}
