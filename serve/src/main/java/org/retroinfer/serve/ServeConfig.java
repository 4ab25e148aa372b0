package org.retroinfer.serve;

import org.retroinfer.kvstore.retro.RetroConfig;

/**
 * How a server runs.
 *
 * @param modelId        the name clients give as {@code model} and {@code GET /v1/models} lists
 * @param host           the address to listen on
 * @param port           the port to listen on; 0 for any free one
 * @param retro          RetroInfer's settings (the default budgets of every request), or null for
 *                       full attention
 * @param maxBatch       sequences that run at once (prefilling and decoding); more wait
 * @param maxContext     prompt plus {@code max_tokens} allowed per request, in tokens
 * @param kvMemoryBytes  KV memory all running sequences may hold together; a request is admitted
 *                       only where its worst case fits beside those running
 * @param maxWaiting     requests that may wait for admission; more are answered 429
 * @param prefillChunk   prompt tokens prefilled per scheduler step, interleaved with decoding
 */
public record ServeConfig(String modelId, String host, int port, RetroConfig retro, int maxBatch, int maxContext,
                          long kvMemoryBytes, int maxWaiting, int prefillChunk) {
    public static final int DEFAULT_PORT = 8080;
    public static final int DEFAULT_MAX_BATCH = 64;
    public static final long DEFAULT_KV_MEMORY = 4L << 30;
    public static final int DEFAULT_MAX_WAITING = 256;
    public static final int DEFAULT_PREFILL_CHUNK = 256;

    public ServeConfig {
        if (modelId == null || modelId.isBlank()) {
            throw new IllegalArgumentException("modelId must not be blank");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        }
        if (maxBatch < 1 || maxBatch > 4096) {
            throw new IllegalArgumentException("maxBatch must be in [1, 4096], got " + maxBatch);
        }
        if (maxContext < 2) {
            throw new IllegalArgumentException("maxContext must be at least 2 tokens, got " + maxContext);
        }
        if (kvMemoryBytes < 1) {
            throw new IllegalArgumentException("kvMemoryBytes must be positive, got " + kvMemoryBytes);
        }
        if (maxWaiting < 0) {
            throw new IllegalArgumentException("maxWaiting must be 0 or more, got " + maxWaiting);
        }
        if (prefillChunk < 1 || prefillChunk > 1 << 16) {
            throw new IllegalArgumentException("prefillChunk must be in [1, 65536], got " + prefillChunk);
        }
    }

    /** "retro" or "full". */
    public String attention() {
        return retro == null ? "full" : "retro";
    }
}
