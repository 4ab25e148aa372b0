package org.retroinfer.examples;

import static org.retroinfer.examples.CliHarness.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.model.random.RandomModel;

/**
 * Every user mistake ends with exactly one line on standard error that names the flag or file at
 * fault, and exit code 2; never a stack trace.
 */
class BadInputTest {

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void writeModel() {
        model = dir.resolve("tiny");
        RandomModel.write(model, GenerateCommandTest.TINY);
    }

    private static Path copyOfModel(String name) throws IOException {
        Path copy = dir.resolve(name);
        try (Stream<Path> files = Files.list(model)) {
            Files.createDirectories(copy);
            for (Path f : files.sorted(Comparator.naturalOrder()).toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        return copy;
    }

    @Test
    void missingModelFlag() {
        assertRefused(CliHarness.run("generate", "--prompt", "hi"), "--model", "required");
    }

    @Test
    void modelPathThatDoesNotExist() {
        assertRefused(CliHarness.run("generate", "--model", dir.resolve("nowhere").toString(), "--prompt", "hi"),
                "--model", "nowhere", "does not exist");
    }

    @Test
    void truncatedWeightsFile() throws IOException {
        Path copy = copyOfModel("truncated");
        Path weights = copy.resolve("model.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(weights.toFile(), "rw")) {
            f.setLength(f.length() - 1000);
        }
        assertRefused(CliHarness.run("generate", "--model", copy.toString(), "--prompt", "hi"),
                "model.safetensors", "truncated");
    }

    @Test
    void corruptConfig() throws IOException {
        Path copy = copyOfModel("corrupt-config");
        Files.writeString(copy.resolve("config.json"), "{\"model_type\": \"llama\", ");
        assertRefused(CliHarness.run("generate", "--model", copy.toString(), "--prompt", "hi"), "config.json", "JSON");
    }

    @Test
    void tensorWithTheWrongShape() throws IOException {
        Path copy = copyOfModel("wrong-shape");
        Path config = copy.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"intermediate_size\" : 128",
                "\"intermediate_size\" : 96"));
        assertRefused(CliHarness.run("generate", "--model", copy.toString(), "--prompt", "hi"),
                "model.layers.0", "shape", "[96, 64]");
    }

    @Test
    void tensorOfAnUnsupportedType() throws IOException {
        Path copy = copyOfModel("wrong-type");
        String header = "{\"model.norm.weight\":{\"dtype\":\"F64\",\"shape\":[64],\"data_offsets\":[0,512]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        byte[] file = new byte[8 + json.length + 512];
        for (int i = 0; i < 8; i++) {
            file[i] = (byte) ((long) json.length >>> (8 * i));
        }
        System.arraycopy(json, 0, file, 8, json.length);
        Files.write(copy.resolve("model.safetensors"), file);
        assertRefused(CliHarness.run("generate", "--model", copy.toString(), "--prompt", "hi"),
                "model.safetensors", "model.norm.weight", "F64");
    }

    @Test
    void unsupportedArchitecture() throws IOException {
        Path copy = copyOfModel("gemma");
        Path config = copy.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"llama\"", "\"gemma2\"")
                .replace("LlamaForCausalLM", "Gemma2ForCausalLM"));
        assertRefused(CliHarness.run("generate", "--model", copy.toString(), "--prompt", "hi"), "gemma2", "not supported");
    }

    @Test
    void contextLongerThanTheModelAllows() {
        assertRefused(CliHarness.run("generate", "--model", model.toString(), "--prompt", "hi", "--max-tokens", "300"),
                "--max-tokens 300", "context of 256");
        assertRefused(CliHarness.run("bench", "--model", model.toString(), "--context", "250", "--gen", "32"),
                "--context 250", "context of 256");
    }

    @Test
    void samplingParametersOutOfRange() {
        String m = model.toString();
        assertRefused(CliHarness.run("generate", "--model", m, "--prompt", "hi", "--temperature", "-1"), "--temperature");
        assertRefused(CliHarness.run("generate", "--model", m, "--prompt", "hi", "--top-p", "0"), "--top-p", "(0, 1]");
        assertRefused(CliHarness.run("generate", "--model", m, "--prompt", "hi", "--top-k", "-3"), "--top-k");
        assertRefused(CliHarness.run("generate", "--model", m, "--prompt", "hi", "--min-p", "1"), "--min-p", "[0, 1)");
        assertRefused(CliHarness.run("generate", "--model", m, "--prompt", "hi", "--temperature", "warm"),
                "--temperature", "number");
        assertRefused(CliHarness.run("generate", "--model", m, "--prompt", "hi", "--max-tokens", "-1"), "--max-tokens");
    }

    @Test
    void unknownOptionsCommandsAndAttentionModes() {
        assertRefused(CliHarness.run("generate", "--model", model.toString(), "--prompt", "hi", "--temprature", "1"),
                "unknown option --temprature");
        assertRefused(CliHarness.run("summarise"), "unknown command 'summarise'");
        assertRefused(CliHarness.run("generate", "--model", model.toString(), "--prompt", "hi", "--attention", "sparse"),
                "--attention must be full or retro", "sparse");
        assertRefused(CliHarness.run("generate", "--model", model.toString()), "--prompt");
        assertRefused(CliHarness.run("generate", "--model", model.toString(), "--prompt", "hi", "--stop", "no such token"),
                "--stop 'no such token'");
    }

    @Test
    void retroBudgetsOutOfRangeOrWithoutRetroAttention() {
        String m = model.toString();
        assertRefused(CliHarness.run("generate", "--model", m, "--prompt", "hi", "--attention", "retro",
                "--retrieval-budget", "0"), "generate:", "--retrieval-budget", "(0, 1]", "got 0");
        assertRefused(CliHarness.run("generate", "--model", m, "--prompt", "hi", "--attention", "retro",
                "--estimation-budget", "1.5"), "--estimation-budget", "[0, 1]", "got 1.5");
        assertRefused(CliHarness.run("generate", "--model", m, "--prompt", "hi", "--attention", "retro",
                "--retrieval-budget", "lots"), "--retrieval-budget", "number", "lots");
        assertRefused(CliHarness.run("generate", "--model", m, "--prompt", "hi", "--retrieval-budget", "0.1"),
                "--retrieval-budget", "only", "--attention retro");
        assertRefused(CliHarness.run("bench", "--model", m, "--context", "16", "--attention", "full",
                "--estimation-budget", "0.1"), "bench:", "--estimation-budget", "only", "--attention retro");
        assertRefused(CliHarness.run("bench", "--model", m, "--context", "16", "--attention", "retro",
                "--retrieval-budget", "-0.5"), "bench:", "--retrieval-budget", "(0, 1]");
        assertRefused(CliHarness.run("demo", "--random-model", "--model-dir", dir.resolve("no-demo").toString(),
                "--attention", "retro", "--estimation-budget", "2"), "demo:", "--estimation-budget", "[0, 1]");
        assertRefused(CliHarness.run("demo", "--random-model", "--model-dir", dir.resolve("no-demo").toString(),
                "--retrieval-budget", "0.5"), "demo:", "--retrieval-budget", "only");
        assertFalse(Files.exists(dir.resolve("no-demo")), "a refused demo writes no model");
    }

    @Test
    void evalMistakesNameTheSuiteFlagOrFileAtFault() throws IOException {
        String m = model.toString();
        assertRefused(CliHarness.run("eval", "--model", m), "eval:", "name a suite first", "heldout");
        assertRefused(CliHarness.run("eval", "rulers", "--model", m), "eval:", "unknown suite 'rulers'", "ruler");
        assertRefused(CliHarness.run("eval", "ruler", "--model", m), "eval ruler:", "--lengths is required");
        assertRefused(CliHarness.run("eval", "heldout", "--model", m), "eval:", "no held-out set at",
                "heldout.jsonl.gz", "--file");
        Path corrupt = dir.resolve("corrupt.jsonl");
        Files.writeString(corrupt, "{\"task\": \"vt\"}\n{not json\n");
        assertRefused(CliHarness.run("eval", "heldout", "--model", m, "--file", corrupt.toString()),
                corrupt.toString(), "line 1", "field 'target_length' is missing");
        Path samples = dir.resolve("samples.jsonl");
        Files.writeString(samples, """
                {"task": "passkey", "target_length": 200, "index": 0, "seed": "0000000000000001", "size": 3, \
                "length": 5, "answer_length": 4, "prompt": "What is the pass key? The pass key is", \
                "answer": " 77.", "references": ["77"]}
                """);
        String f = samples.toString();
        assertRefused(CliHarness.run("eval", "heldout", "--model", m, "--file", f, "--lengths", "4k"),
                "--lengths 4096 is not a length of", "[200]");
        assertRefused(CliHarness.run("eval", "heldout", "--model", m, "--file", f, "--tasks", "vt"),
                "--tasks vt has no samples");
        assertRefused(CliHarness.run("eval", "heldout", "--model", m, "--file", f, "--tasks", "needles"),
                "--tasks: unknown task 'needles'");
        assertRefused(CliHarness.run("eval", "heldout", "--model", m, "--file", f, "--attention", "full,sparse"),
                "--attention must be full or retro, or both");
        assertRefused(CliHarness.run("eval", "heldout", "--model", m, "--file", f, "--samples", "0"), "--samples");
        assertRefused(CliHarness.run("eval", "heldout", "--model", m, "--file", f, "--threads", "0"), "--threads");
        String threads = System.getProperty("retroinfer.threads");
        try {
            assertRefused(CliHarness.run("eval", "heldout", "--model", m, "--file", f, "--threads",
                    Integer.toString(ComputePool.threads() + 1)), "--threads", "cannot take effect");
        } finally {
            if (threads == null) {
                System.clearProperty("retroinfer.threads");
            } else {
                System.setProperty("retroinfer.threads", threads);
            }
        }
        Path occupied = Files.writeString(dir.resolve("occupied"), "a file");
        assertRefused(CliHarness.run("eval", "heldout", "--model", m, "--file", f, "--out", occupied.toString()),
                "--out " + occupied, "is a file");
        assertRefused(CliHarness.run("eval", "heldout", "--model", m, "--file", f, "--out", dir.resolve("x").toString()),
                samples.toString(), "passkey 200 #0", "the prompt is", "tokens with the tokenizer of", "another model");
    }

    @Test
    void demoWithoutItsDefaultModelSaysWhatToDo() throws IOException {
        String home = System.getProperty(DemoCommand.HOME_PROPERTY);
        try {
            System.clearProperty(DemoCommand.HOME_PROPERTY);
            assertRefused(CliHarness.run("demo"), "demo:", "no default model", "--model PATH", "--random-model");
            Path empty = Files.createDirectories(dir.resolve("checkout"));
            System.setProperty(DemoCommand.HOME_PROPERTY, empty.toString());
            assertRefused(CliHarness.run("demo"), "demo:", "default model " + empty.resolve("models/retro-tiny"),
                    "missing", "--random-model");
        } finally {
            if (home == null) {
                System.clearProperty(DemoCommand.HOME_PROPERTY);
            } else {
                System.setProperty(DemoCommand.HOME_PROPERTY, home);
            }
        }
        assertRefused(CliHarness.run("demo", "--model", model.toString(), "--prompt", "hi"), "demo:", "--prompt",
                "only to --random-model");
        assertRefused(CliHarness.run("demo", "--random-model", "--context", "2k"), "demo:", "--context",
                "does not apply to --random-model");
        assertRefused(CliHarness.run("demo", "--model", model.toString(), "--task", "vt"), "demo:", "--task",
                "niah_single_1, niah_multikey_2, niah_multikey_3");
        assertRefused(CliHarness.run("demo", "--model", model.toString(), "--seed", "-1"), "demo:", "--seed");
        assertRefused(CliHarness.run("demo", "--model", model.toString(), "--context", "100k"), "demo:", "--context",
                "[256, 256]");
    }

    @Test
    void aModelFileInsteadOfItsDirectory() {
        assertRefused(CliHarness.run("generate", "--model", model.resolve("config.json").toString(), "--prompt", "hi"),
                "config.json", "directory");
    }

    @Test
    void noArgumentsPrintsUsageAndFails() {
        CliHarness r = CliHarness.run();
        assertEquals(2, r.exitCode());
        assertTrue(r.out().contains("generate") && r.out().contains("bench") && r.out().contains("demo"));
    }

    @Test
    void anUnknownDeviceIsRefused() {
        assertRefused(CliHarness.run("generate", "--model", model.toString(), "--prompt", "hi", "--device", "tpu"),
                "--device must be cpu or gpu", "tpu");
    }

    @Test
    void sparseBaselinesOnTheGpuAreRefusedByName() {
        for (String mode : new String[] {"quest", "streaming"}) {
            assertRefused(CliHarness.run("eval", "ruler", "--model", model.toString(), "--lengths", "1k", "--device", "gpu",
                    "--attention", "full,retro," + mode), "--device gpu runs --attention full or retro", "use --device cpu for "
                    + mode);
        }
    }

    /** CI machines have no NVIDIA driver: asking for the GPU is an error there, never a quiet run on the CPU. */
    @Test
    void theGpuWhereThereIsNoneIsAnErrorNotACpuRun() {
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.exists(Path.of("/dev/nvidiactl")), "this machine has an NVIDIA GPU");
        assertRefused(CliHarness.run("generate", "--model", model.toString(), "--prompt", "hi", "--device", "gpu"),
                "--device gpu: no usable CUDA GPU here", "libcuda");
        assertRefused(CliHarness.run("bench", "--shape", "llama3-8b", "--device", "gpu", "--context", "1k"),
                "--device gpu: no usable CUDA GPU here");
    }

    @Test
    void aShapeNeedsTheGpuAndAKnownName() {
        assertRefused(CliHarness.run("bench", "--shape", "llama3-8b", "--context", "1k"), "--shape runs on the GPU only");
        assertRefused(CliHarness.run("bench", "--shape", "gpt-5", "--device", "gpu", "--context", "1k"), "--shape must be one of",
                "llama3-8b");
        assertRefused(CliHarness.run("bench", "--shape", "llama3-8b", "--device", "gpu", "--context", "1k", "--micro-batches",
                "0"), "--micro-batches", "got 0");
        assertRefused(CliHarness.run("bench", "--model", model.toString(), "--context", "16", "--micro-batches", "2"),
                "--micro-batches applies to --shape benches only");
        assertRefused(CliHarness.run("bench", "--model", model.toString(), "--context", "16", "--gpu-memory", "80"),
                "--gpu-memory applies to --shape benches only");
        assertRefused(CliHarness.run("bench", "--model", model.toString(), "--context", "16", "--seed", "-1"), "bench:", "--seed");
        assertRefused(CliHarness.run("bench", "--model", model.toString(), "--context", "16", "--prefill"),
                "--prefill applies to --shape benches only");
        assertRefused(CliHarness.run("bench", "--shape", "llama3-8b", "--device", "gpu", "--context", "1k", "--prefill-chunk",
                "512"), "--prefill-chunk applies to --shape with --prefill only");
        assertRefused(CliHarness.run("bench", "--shape", "llama3-8b", "--device", "gpu", "--context", "1k", "--prefill",
                "--batch", "2"), "--batch does not apply to --prefill");
        assertRefused(CliHarness.run("bench", "--shape", "llama3-8b", "--device", "gpu", "--context", "1k", "--profiler-step",
                "maybe"), "--profiler-step must be on or off", "maybe");
        assertRefused(CliHarness.run("bench", "--shape", "llama3-8b", "--device", "gpu", "--context", "1k", "--prefill",
                "--profiler-step", "on"), "--profiler-step does not apply to --prefill");
        assertRefused(CliHarness.run("bench", "--model", model.toString(), "--context", "16", "--profiler-step", "on"),
                "--profiler-step applies to --shape benches only");
    }

    /** The tiers' formats and the GPU tier's cap are GPU RetroInfer's: refused by name anywhere else, before any GPU. */
    @Test
    void hostTierFlagsNeedGpuRetroInfer() {
        assertRefused(CliHarness.run("generate", "--model", model.toString(), "--prompt", "hi", "--host-kv", "int8"),
                "--host-kv applies to --device gpu --attention retro only");
        assertRefused(CliHarness.run("generate", "--model", model.toString(), "--prompt", "hi", "--device", "gpu",
                "--attention", "full", "--gpu-store-layers", "0"), "--gpu-store-layers applies to --attention retro only");
        assertRefused(CliHarness.run("bench", "--shape", "llama3-8b", "--device", "gpu", "--context", "1k", "--attention",
                "retro", "--kv-type", "bf16", "--host-kv", "fp4"), "--host-kv must be int8, int4 or the KV type bf16", "fp4");
        assertRefused(CliHarness.run("generate", "--model", model.toString(), "--prompt", "hi", "--device", "gpu",
                "--attention", "full", "--gpu-kv", "int4"), "--gpu-kv applies to --attention retro only");
        assertRefused(CliHarness.run("bench", "--shape", "llama3-8b", "--device", "gpu", "--context", "1k", "--attention",
                "retro", "--kv-type", "f16", "--gpu-kv", "int2"), "--gpu-kv must be int8, int4 or the KV type f16", "int2");
        assertRefused(CliHarness.run("generate", "--model", model.toString(), "--prompt", "hi", "--device", "gpu",
                "--attention", "full", "--value-sums", "int8"), "--value-sums applies to --attention retro only");
        assertRefused(CliHarness.run("bench", "--shape", "llama3-8b", "--device", "gpu", "--context", "1k", "--attention",
                "retro", "--kv-type", "bf16", "--value-sums", "int4"), "--value-sums must be int8 or the KV type bf16, got 'int4'");
        assertRefused(CliHarness.run("generate", "--model", model.toString(), "--prompt", "hi", "--device", "cpu",
                "--attention", "retro", "--centroids", "int8"), "--centroids applies to --device gpu --attention retro only");
        assertRefused(CliHarness.run("bench", "--shape", "llama3-8b", "--device", "gpu", "--context", "1k", "--attention",
                "retro", "--kv-type", "f16", "--centroids", "int4"), "--centroids must be int8 or the KV type f16, got 'int4'");
        assertRefused(CliHarness.run("bench", "--shape", "llama3-8b", "--device", "gpu", "--context", "1k", "--attention",
                "retro", "--gpu-store-layers", "most"), "--gpu-store-layers must be a number of layers (0 or more) or all, got 'most'");
        assertRefused(CliHarness.run("generate", "--model", model.toString(), "--prompt", "hi", "--lookups", "gpu"),
                "--lookups applies to --device gpu --attention retro only");
        assertRefused(CliHarness.run("bench", "--shape", "llama3-8b", "--device", "gpu", "--context", "1k", "--attention",
                "retro", "--lookups", "disk"), "--lookups must be auto, host, gpu or gpu-stores, got 'disk'");
    }
}
