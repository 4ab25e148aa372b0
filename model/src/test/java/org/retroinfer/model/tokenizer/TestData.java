package org.retroinfer.model.tokenizer;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The real tokenizer files in {@code shared/testdata/tokenizers} (not ours to commit). Found through
 * the system property {@code retroinfer.testdata} or the environment variable
 * {@code RETROINFER_TESTDATA}, else as {@code shared/testdata} beside the repository or one of its
 * parent folders ({@code /work/main/../shared/testdata}). Tests that need them are skipped where
 * they are absent. Loaded tokenizers are shared by all tests in the JVM.
 */
final class TestData {
    static final String PROPERTY = "retroinfer.testdata";
    static final String ENV = "RETROINFER_TESTDATA";

    private static final Map<String, Tokenizer> LOADED = new ConcurrentHashMap<>();

    private TestData() {
    }

    /** The folder of one real tokenizer ({@code llama3}, {@code qwen3}, {@code mistral}), or the test is skipped. */
    static Path tokenizerDir(String name) {
        Path root = testdataRoot();
        assumeTrue(root != null, "real tokenizer files not found: set -D" + PROPERTY + "=<dir> or " + ENV
                + " to the folder holding tokenizers/{llama3,qwen3,mistral}, or put it at <repo>/../shared/testdata");
        Path dir = root.resolve("tokenizers").resolve(name);
        assumeTrue(Files.isRegularFile(dir.resolve("tokenizer.json")), "no tokenizer.json in " + dir);
        return dir;
    }

    static Path tokenizerJson(String name) {
        return tokenizerDir(name).resolve("tokenizer.json");
    }

    /** Our tokenizer for a real tokenizer.json, loaded once. */
    static Tokenizer tokenizer(String name) {
        Path file = tokenizerJson(name);
        return LOADED.computeIfAbsent(name, n -> Tokenizer.load(file));
    }

    private static Path testdataRoot() {
        String configured = System.getProperty(PROPERTY, System.getenv(ENV));
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared").resolve("testdata");
            if (Files.isDirectory(candidate.resolve("tokenizers"))) {
                return candidate;
            }
        }
        return null;
    }
}
