package org.retroinfer.serve;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.model.Model;
import org.retroinfer.model.chat.ChatTemplate;

/** The project's own small model behind a server on loopback, and a client for it. */
final class RetroTiny {
    static final Path DIR = Path.of("..", "models", "retro-tiny");
    static final String ID = "retro-tiny";

    private RetroTiny() {}

    static ServeConfig config(RetroConfig retro) {
        return new ServeConfig(ID, "127.0.0.1", 0, retro, ServeConfig.DEFAULT_MAX_BATCH, 4096, 1L << 30,
                ServeConfig.DEFAULT_MAX_WAITING, ServeConfig.DEFAULT_PREFILL_CHUNK);
    }

    /** A server with ChatML for chat requests (retro-tiny has no chat template of its own). */
    static ApiServer start(Model model, ServeConfig config) throws IOException {
        return ApiServer.start(model, config, ChatTemplate.forFamily("qwen2"));
    }

    static URI base(ApiServer server) {
        return URI.create("http://127.0.0.1:" + server.port());
    }

    static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    static HttpResponse<String> post(ApiServer server, String path, String body) throws Exception {
        return client().send(HttpRequest.newBuilder(base(server).resolve(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(ApiServer server, String path) throws Exception {
        return client().send(HttpRequest.newBuilder(base(server).resolve(path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Waits up to 10 s for the scheduler to be idle: nothing running or waiting, no KV memory held. */
    static void awaitIdle(ApiServer server) throws InterruptedException {
        BatchScheduler s = server.scheduler();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while ((s.running() > 0 || s.waiting() > 0 || s.kvMemoryBytes() > 0 || s.kvReservedBytes() > 0)
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }
}
