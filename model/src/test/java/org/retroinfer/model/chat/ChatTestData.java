package org.retroinfer.model.chat;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real tokenizer_config.json files in {@code shared/testdata} (not ours to commit), found through
 * the system property {@code retroinfer.testdata} or the environment variable
 * {@code RETROINFER_TESTDATA}, else as {@code shared/testdata} beside the repository or one of its
 * parent folders. Tests that need them are skipped where they are absent.
 */
final class ChatTestData {
    static final String PROPERTY = "retroinfer.testdata";
    static final String ENV = "RETROINFER_TESTDATA";

    private ChatTestData() {
    }

    /** A file under the testdata root, e.g. {@code tokenizers/qwen3/tokenizer_config.json}, or the test is skipped. */
    static Path file(String relative) {
        Path root = root();
        assumeTrue(root != null, "real tokenizer files not found: set -D" + PROPERTY + "=<dir> or " + ENV
                + " to the folder holding tokenizers/{llama3,qwen3,mistral}, or put it at <repo>/../shared/testdata");
        Path file = root.resolve(relative);
        assumeTrue(Files.isRegularFile(file), "no " + relative + " in " + root);
        return file;
    }

    static Path tokenizerConfig(String name) {
        return file("tokenizers/" + name + "/tokenizer_config.json");
    }

    private static Path root() {
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
