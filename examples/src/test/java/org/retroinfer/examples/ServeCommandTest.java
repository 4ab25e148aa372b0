package org.retroinfer.examples;

import static org.retroinfer.examples.CliHarness.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ServeCommandTest {

    static final String MODEL = EvalCommandTest.RETRO_TINY.toString();

    @Test
    void theGpuWhereThereIsNoneOrRetroOnItIsRefusedWithOneLine() {
        org.junit.jupiter.api.Assumptions.assumeFalse(java.nio.file.Files.exists(java.nio.file.Path.of("/dev/nvidiactl")),
                "this machine has an NVIDIA GPU");
        assertRefused(CliHarness.run("serve", "--model", MODEL, "--device", "gpu"), "--device gpu: no usable CUDA GPU here");
        assertRefused(CliHarness.run("serve", "--model", MODEL, "--device", "gpu", "--attention", "retro"),
                "--device gpu: no usable CUDA GPU here");
        assertRefused(CliHarness.run("serve", "--model", MODEL, "--device", "tpu"), "--device must be cpu or gpu");
    }

    @Test
    void badFlagsAreOneLineWithExitCode2() {
        assertRefused(CliHarness.run("serve"), "--model", "required");
        assertRefused(CliHarness.run("serve", "--model", MODEL, "--kv-memory", "lots"), "--kv-memory", "512m or 4g");
        assertRefused(CliHarness.run("serve", "--model", MODEL, "--port", "70000"), "--port must be in [0, 65535]");
        assertRefused(CliHarness.run("serve", "--model", MODEL, "--attention", "sparse"), "--attention must be full or retro");
        assertRefused(CliHarness.run("serve", "--model", MODEL, "--retrieval-budget", "0.1"),
                "--retrieval-budget applies only to --attention retro");
        assertRefused(CliHarness.run("serve", "--model", MODEL, "--chat-template", "vicuna"),
                "--chat-template must be one of llama, qwen2, qwen3, mistral");
        assertRefused(CliHarness.run("serve", "--model", MODEL, "--max-context", "100000"),
                "--max-context 100000 is more than the model's context of 32768 tokens");
        assertRefused(CliHarness.run("serve-bench", "--model", MODEL, "--clients", "0"), "--clients must be in [1, 4096]");
    }

    @Test
    void helpListsEveryOption() {
        CliHarness r = CliHarness.run("serve", "--help");
        assertEquals(0, r.exitCode());
        for (String flag : ServeCommand.VALUED) {
            assertTrue(r.out().contains("--" + flag + " "), "--" + flag + " missing from help");
        }
    }

    @Test
    void sizesTakeBinaryUnits() {
        Options o = Options.parse("serve", new String[] {"--kv-memory", "1.5g", "--a", "512m", "--b", "4096"},
                Set.of("kv-memory", "a", "b"), Set.of());
        assertEquals(3L << 29, ServeCommand.bytes(o, "kv-memory", 0));
        assertEquals(512L << 20, ServeCommand.bytes(o, "a", 0));
        assertEquals(4096, ServeCommand.bytes(o, "b", 0));
        assertEquals(7, ServeCommand.bytes(o, "absent", 7));
    }

    @Test
    void theCommandServesTheModelUnderItsNameWithTheChatTemplateAsked() throws Exception {
        Options o = Options.parse("serve", new String[] {"--model", MODEL, "--port", "0", "--attention", "retro",
            "--chat-template", "qwen2", "--max-context", "2048", "--model-name", "tiny"}, ServeCommand.VALUED, Set.of());
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (ServeCommand.Running running = ServeCommand.start(o, new PrintStream(err, true, StandardCharsets.UTF_8))) {
            URI base = URI.create("http://127.0.0.1:" + running.server().port());
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("retroinfer serve: tiny (retro"), err.toString());
            HttpClient http = HttpClient.newHttpClient();
            JsonNode models = new ObjectMapper().readTree(http.send(HttpRequest.newBuilder(base.resolve("/v1/models"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body());
            assertEquals("tiny", models.get("data").get(0).get("id").asText());
            assertEquals(2048, models.get("data").get(0).get("max_model_len").asInt());
            HttpResponse<String> chat = http.send(HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"tiny\", \"max_tokens\": 3, \"messages\": "
                            + "[{\"role\": \"user\", \"content\": \"Hi\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, chat.statusCode(), chat.body());
        }
    }
}
