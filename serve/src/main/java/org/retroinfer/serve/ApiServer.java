package org.retroinfer.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.model.transformer.ForwardPass;
import org.retroinfer.kvstore.retro.RetroKvCache;
import org.retroinfer.model.Model;
import org.retroinfer.model.chat.ChatTemplate;
import org.retroinfer.model.config.ModelConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenAI-compatible HTTP API over a {@link BatchScheduler}: {@code POST /v1/completions},
 * {@code POST /v1/chat/completions} (whole or streamed as server-sent events),
 * {@code GET /v1/models}, {@code GET /health} and {@code GET /metrics}. Served by the JDK's
 * {@link HttpServer} with a virtual thread per exchange: a thread waiting on its sequence's next
 * token costs next to nothing, so thousands of open streams need no thread pool tuning. A response
 * learns that its client left when a write fails, so it writes at least every second (an SSE comment
 * while no token comes; a space before a whole response's JSON) and cancels its sequence at once.
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
    /** The largest request body read: a 1M-token prompt as text is a few MB. */
    static final int MAX_BODY_BYTES = 16 << 20;
    /** How often a silent stream writes a comment, to notice a client that left. */
    static final long KEEP_ALIVE_MILLIS = 1000;
    private static final Set<String> ENDPOINTS = Set.of("/v1/completions", "/v1/chat/completions", "/v1/models",
            "/health", "/metrics");

    private final ServeConfig config;
    private final KvCache cache;
    private final BatchScheduler scheduler;
    private final ServerMetrics metrics = new ServerMetrics();
    private final RequestParser parser;
    private final ObjectMapper json = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    private final HttpServer http;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final long startedSeconds = System.currentTimeMillis() / 1000;

    private ApiServer(Model model, ServeConfig config, ChatTemplate chatTemplate, ForwardPass forward, KvCache cache)
            throws IOException {
        this.config = config;
        this.cache = cache;
        this.parser = new RequestParser(model, config, chatTemplate);
        this.scheduler = new BatchScheduler(forward, model.tokenizer(), cache, config, metrics);
        try {
            this.http = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 256);
        } catch (IOException e) {
            scheduler.close();
            cache.close();
            throw e;
        }
        http.setExecutor(executor);
        http.createContext("/", this::handle);
        http.start();
        LOG.info("serving {} ({} attention) on http://{}:{}", config.modelId(), config.attention(), config.host(), port());
    }

    /**
     * Starts serving {@code model}, which the caller keeps open until {@link #close}.
     * {@code chatTemplate} formats chat requests; null refuses them with a message.
     */
    public static ApiServer start(Model model, ServeConfig config, ChatTemplate chatTemplate) throws IOException {
        ModelConfig mc = model.config();
        AttentionShape shape = new AttentionShape(mc.layers(), mc.heads(), mc.kvHeads(), mc.headDim());
        KvCache cache = config.retro() == null ? new DenseKvCache(shape, DenseKvCache.Config.defaults())
                : new RetroKvCache(shape, config.retro());
        return new ApiServer(model, config, chatTemplate, model.transformer(), cache);
    }

    /**
     * Starts serving with another forward pass and its cache, such as a GPU session's transformer and its
     * {@link org.retroinfer.kvstore.gpu.GpuKvCache}; the server closes the cache, the caller the rest.
     */
    public static ApiServer start(Model model, ServeConfig config, ChatTemplate chatTemplate, ForwardPass forward, KvCache cache)
            throws IOException {
        return new ApiServer(model, config, chatTemplate, forward, cache);
    }

    /** The port listened on (the one picked where the config asked for 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    public BatchScheduler scheduler() {
        return scheduler;
    }

    public ServerMetrics metrics() {
        return metrics;
    }

    /** The prompt plus completion tokens a request may have: --max-context within the model's context. */
    public int maxContext() {
        return parser.maxContext();
    }

    private void handle(HttpExchange exchange) {
        String path = exchange.getRequestURI().getPath();
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        String method = exchange.getRequestMethod();
        String endpoint = ENDPOINTS.contains(path) ? path : path.startsWith("/v1/models/") ? "/v1/models/:id" : "other";
        try {
            switch (endpoint) {
                case "/v1/completions" -> generate(exchange, method, path, false);
                case "/v1/chat/completions" -> generate(exchange, method, path, true);
                case "/v1/models" -> {
                    allow(method, path, "GET");
                    ObjectNode list = json.createObjectNode();
                    list.put("object", "list");
                    list.putArray("data").add(modelCard());
                    sendJson(exchange, 200, list);
                }
                case "/v1/models/:id" -> {
                    allow(method, path, "GET");
                    String id = path.substring("/v1/models/".length());
                    if (!id.equals(config.modelId())) {
                        throw ApiException.unknownModel(id, config.modelId());
                    }
                    sendJson(exchange, 200, modelCard());
                }
                case "/health" -> {
                    allow(method, path, "GET");
                    ObjectNode health = json.createObjectNode();
                    health.put("status", "ok");
                    sendJson(exchange, 200, health);
                }
                case "/metrics" -> {
                    allow(method, path, "GET");
                    send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8",
                            metrics.render(scheduler, config).getBytes(StandardCharsets.UTF_8));
                }
                default -> throw ApiException.notFound(method, path);
            }
        } catch (ApiException e) {
            answerError(exchange, e);
        } catch (IOException e) {
            LOG.debug("client of {} {} left: {}", method, path, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            LOG.error("{} {} failed", method, path, e);
            answerError(exchange, ApiException.internal("internal error: " + e));
        } finally {
            metrics.response(endpoint, exchange.getResponseCode());
            exchange.close();
        }
    }

    private ObjectNode modelCard() {
        ObjectNode card = json.createObjectNode();
        card.put("id", config.modelId());
        card.put("object", "model");
        card.put("created", startedSeconds);
        card.put("owned_by", "retroinfer");
        card.put("max_model_len", parser.maxContext());
        return card;
    }

    private static void allow(String method, String path, String allowed) {
        if (!method.equals(allowed)) {
            throw ApiException.methodNotAllowed(method, path, allowed);
        }
    }

    private void generate(HttpExchange exchange, String method, String path, boolean chat)
            throws IOException, InterruptedException {
        allow(method, path, "POST");
        JsonNode body = readJson(exchange);
        ParsedRequest request = chat ? parser.chat(body) : parser.completion(body);
        ResponseFormat format = new ResponseFormat(json, chat, config.modelId());
        EventQueue events = new EventQueue();
        Submission submission = scheduler.submit(request.sequence(), events);
        try {
            if (request.stream()) {
                stream(exchange, request, format, events);
            } else {
                whole(exchange, format, events);
            }
        } finally {
            // Whatever ended the exchange (a client gone, an interrupt, a bug), its sequence must not run on.
            submission.cancel();
        }
    }

    /**
     * A whole (non-streamed) response. Once it has taken {@link #KEEP_ALIVE_MILLIS}, it commits to status 200 and
     * writes a space (JSON allows leading whitespace) every interval, tokens coming or not: the JDK server tells a
     * handler that its client left only through a failed write, and without these a request whose client is gone
     * would run to its last token.
     * Errors known at submission (400, 429) come before that; a failure after the commitment is written as OpenAI's
     * error object under the 200 already sent.
     */
    private void whole(HttpExchange exchange, ResponseFormat format, EventQueue events)
            throws IOException, InterruptedException {
        StringBuilder text = new StringBuilder();
        OutputStream committed = null;
        long nextBeat = System.nanoTime() + KEEP_ALIVE_MILLIS * 1_000_000;
        while (true) {
            EventQueue.Event event = events.poll(KEEP_ALIVE_MILLIS);
            switch (event) {
                case null -> {}
                case EventQueue.Text t -> text.append(t.piece());
                case EventQueue.Finished f -> {
                    JsonNode body = format.complete(text.toString(), f.reason(), f.promptTokens(), f.completionTokens());
                    if (committed == null) {
                        sendJson(exchange, 200, body);
                    } else {
                        write(committed, json.writeValueAsString(body));
                        committed.close();
                    }
                    return;
                }
                case EventQueue.Failed f -> {
                    if (committed == null) {
                        throw f.error();
                    }
                    write(committed, json.writeValueAsString(ErrorBody.of(json, f.error())));
                    committed.close();
                    return;
                }
            }
            // a space a second, whether tokens are coming or not: only a write can fail when the client is gone
            if (System.nanoTime() - nextBeat >= 0) {
                if (committed == null) {
                    exchange.getResponseHeaders().set("Content-Type", "application/json");
                    exchange.sendResponseHeaders(200, 0);
                    committed = exchange.getResponseBody();
                }
                write(committed, " ");
                nextBeat = System.nanoTime() + KEEP_ALIVE_MILLIS * 1_000_000;
            }
        }
    }

    private void stream(HttpExchange exchange, ParsedRequest request, ResponseFormat format, EventQueue events)
            throws IOException, InterruptedException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-cache");
        exchange.sendResponseHeaders(200, 0);
        OutputStream out = exchange.getResponseBody();
        ObjectNode start = format.start();
        if (start != null) {
            event(out, start);
        }
        while (true) {
            EventQueue.Event next = events.poll(KEEP_ALIVE_MILLIS);
            switch (next) {
                case null -> write(out, ": keep-alive\n\n");
                case EventQueue.Text t -> event(out, format.text(t.piece()));
                case EventQueue.Finished f -> {
                    event(out, format.finish(f.reason()));
                    if (request.includeUsage()) {
                        event(out, format.usageChunk(f.promptTokens(), f.completionTokens()));
                    }
                    write(out, "data: [DONE]\n\n");
                    return;
                }
                case EventQueue.Failed f -> {
                    // The status is sent; OpenAI's streams report a late failure as an error event.
                    event(out, ErrorBody.of(json, f.error()));
                    write(out, "data: [DONE]\n\n");
                    return;
                }
            }
        }
    }

    private void event(OutputStream out, JsonNode node) throws IOException {
        write(out, "data: " + json.writeValueAsString(node) + "\n\n");
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private JsonNode readJson(HttpExchange exchange) throws IOException {
        byte[] bytes;
        try (InputStream in = exchange.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (bytes.length > MAX_BODY_BYTES) {
            throw ApiException.tooLarge(MAX_BODY_BYTES);
        }
        JsonNode body;
        try {
            body = json.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw ApiException.invalid(null, "We could not parse the JSON body of your request: "
                    + e.getOriginalMessage());
        }
        if (body == null || body.isMissingNode()) {
            throw ApiException.invalid(null, "The request body is empty; send a JSON object");
        }
        if (!body.isObject()) {
            throw ApiException.invalid(null, "The request body must be a JSON object, got " + body.getNodeType()
                    .name().toLowerCase(java.util.Locale.ROOT));
        }
        return body;
    }

    private void answerError(HttpExchange exchange, ApiException e) {
        if (exchange.getResponseCode() != -1) {
            LOG.warn("{} after the response started: {}", e.status(), e.getMessage());
            return;
        }
        try {
            if (e.retryAfterSeconds() > 0) {
                exchange.getResponseHeaders().set("Retry-After", Integer.toString(e.retryAfterSeconds()));
            }
            if (e.allow() != null) {
                exchange.getResponseHeaders().set("Allow", e.allow());
            }
            sendJson(exchange, e.status(), ErrorBody.of(json, e));
        } catch (IOException io) {
            LOG.debug("could not answer {}: {}", e.status(), io.toString());
        }
    }

    private void sendJson(HttpExchange exchange, int status, JsonNode node) throws IOException {
        send(exchange, status, "application/json", json.writeValueAsBytes(node));
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    /** Stops listening, answers what still runs or waits with 503, and frees the KV cache. */
    @Override
    public void close() {
        http.stop(0);
        scheduler.close();
        executor.shutdownNow();
        try {
            if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("HTTP threads still running 10 s after shutdown");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        cache.close();
        LOG.info("stopped serving {}", config.modelId());
    }
}
