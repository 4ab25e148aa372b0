package org.retroinfer.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.model.Model;

/**
 * The official {@code openai} npm package (pinned in src/test/node/package-lock.json) drives the
 * server: completions, chat, streaming, the budget extension and errors. It is installed into
 * target/ with {@code npm ci}. Without node and npm, or without the registry, the test skips saying
 * why, except on CI ({@code CI=true}), where it must run.
 */
class OpenAiNpmClientTest {
    static final Path SOURCES = Path.of("src", "test", "node");
    static final Path WORK = Path.of("target", "openai-client");

    @Test
    void theOfficialOpenAiClientCompletesChatsStreamsAndSeesErrors() throws Exception {
        installClient();
        try (Model model = Model.load(RetroTiny.DIR);
             ApiServer server = RetroTiny.start(model, RetroTiny.config(RetroConfig.defaults()))) {
            Result node = run(List.of("node", "client.mjs", RetroTiny.base(server).toString()), 120);
            System.out.println(node.output());
            assertEquals(0, node.exitCode(), node.output());
            assertTrue(node.output().contains(" passed, 0 failed"), node.output());
        }
    }

    private static void installClient() throws Exception {
        for (String tool : List.of("node", "npm")) {
            Result which = run(List.of("sh", "-c", "command -v " + tool), 10);
            if (which.exitCode() != 0) {
                unavailable(tool + " is not installed");
            }
        }
        Files.createDirectories(WORK);
        for (String file : List.of("package.json", "package-lock.json", "client.mjs")) {
            Files.copy(SOURCES.resolve(file), WORK.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        if (Files.isRegularFile(WORK.resolve("node_modules/openai/package.json"))
                && Files.readString(WORK.resolve("node_modules/openai/package.json")).contains(pinnedVersion())) {
            return;
        }
        Result npm = run(List.of("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"), 180);
        if (npm.exitCode() != 0) {
            unavailable("npm ci of the openai package failed: " + npm.output().strip());
        }
    }

    private static String pinnedVersion() throws IOException {
        String lock = Files.readString(SOURCES.resolve("package.json"));
        int at = lock.indexOf("\"openai\": \"") + "\"openai\": \"".length();
        return "\"version\": \"" + lock.substring(at, lock.indexOf('"', at)) + "\"";
    }

    private static void unavailable(String why) {
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError("on CI the openai npm client test must run, but " + why);
        }
        abort("skipped: the openai npm client cannot run here: " + why);
    }

    record Result(int exitCode, String output) {}

    private static Result run(List<String> command, int timeoutSeconds) throws Exception {
        Process p = new ProcessBuilder(command).directory(WORK.toFile().isDirectory() ? WORK.toFile() : null)
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, String.join(" ", command) + " did not finish in " + timeoutSeconds + " s");
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
