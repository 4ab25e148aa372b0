package org.retroinfer.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.model.Model;

/** 64 concurrent streaming clients: every stream complete and well-formed, and memory back where it started. */
class LoadTest {
    static final int CLIENTS = 64;
    static final int REQUESTS = 128;
    static final int MAX_TOKENS = 12;

    @Test
    void sixtyFourStreamingClientsAllCompleteAndMemoryReturnsToItsStart() throws Exception {
        try (Model model = Model.load(RetroTiny.DIR);
             ApiServer server = RetroTiny.start(model, RetroTiny.config(RetroConfig.defaults()))) {
            BatchScheduler scheduler = server.scheduler();
            long kvBefore = scheduler.kvMemoryBytes();
            long heapBefore = usedHeapAfterGc();
            List<String> prompts = IntStream.range(0, REQUESTS).mapToObj(i -> "def function_" + i + "(x):").toList();
            LoadClient.Report report = LoadClient.run(RetroTiny.base(server), RetroTiny.ID, prompts, CLIENTS, MAX_TOKENS,
                    Duration.ofSeconds(60));
            for (LoadClient.StreamResult r : report.results()) {
                assertTrue(r.ok(), r.problem());
                assertTrue(r.textChunks() > 0 || r.finishReason().equals("stop"), r.toString());
            }
            assertEquals(REQUESTS, report.results().size());
            System.out.printf("%d streams from %d clients in %.2f s: %.1f requests/s, time to first token mean %.3f s%n",
                    REQUESTS, CLIENTS, report.wallSeconds(), report.requestsPerSecond(), report.firstTokenSeconds()[0]);
            RetroTiny.awaitIdle(server);
            assertEquals(0, scheduler.running());
            assertEquals(0, scheduler.waiting());
            assertEquals(kvBefore, scheduler.kvMemoryBytes(), "KV memory back to its start");
            assertEquals(0, scheduler.kvReservedBytes());
            long heapAfter = usedHeapAfterGc();
            assertTrue(heapAfter < heapBefore + (64L << 20), "heap grew from " + heapBefore + " to " + heapAfter);
            String metrics = RetroTiny.get(server, "/metrics").body();
            assertTrue(metrics.contains("\nretroinfer_time_to_first_token_seconds_count " + REQUESTS + "\n"), metrics);
            assertTrue(metrics.contains("\nretroinfer_requests_in_flight 0\n"), metrics);
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
