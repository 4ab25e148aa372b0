package org.retroinfer.serve;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.kvstore.retro.RetroKvCache;
import org.retroinfer.model.generation.NextTokens;
import org.retroinfer.model.generation.Sampler;
import org.retroinfer.model.tokenizer.Tokenizer;
import org.retroinfer.model.transformer.ForwardPass;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching. One thread owns the model and the KV cache (neither is thread-safe); HTTP
 * threads {@link #submit} requests and receive their text through a {@link SequenceListener}.
 * Each step the thread admits waiting requests while the batch has room and their worst-case KV
 * memory fits the {@link KvBudget} (first come, first served, so a large request is not
 * starved), then runs one forward pass holding a row for every decoding sequence and up to
 * {@code prefillChunk} prompt tokens of the sequences still prefilling (Sarathi-style chunked
 * prefill: a long prompt never stalls the others' decoding), samples each sequence's next token
 * with its own sampler, streams the text, and frees every sequence that finished or whose client
 * left.
 */
public final class BatchScheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BatchScheduler.class);

    private final ForwardPass model;
    private final Tokenizer tokenizer;
    private final KvCache cache;
    private final KvBudget budget;
    private final ServeConfig config;
    private final ServerMetrics metrics;
    private final LinkedBlockingQueue<RunningSequence> incoming = new LinkedBlockingQueue<>();
    /** Submitted and not yet admitted: the queue that {@link ServeConfig#maxWaiting} bounds. */
    private final AtomicInteger waitingCount = new AtomicInteger();
    private final ArrayDeque<RunningSequence> waiting = new ArrayDeque<>();
    private final List<RunningSequence> running = new ArrayList<>();
    private final Thread thread;
    private volatile boolean closing;
    private volatile java.util.Map<String, Long> kvMemoryBytes = java.util.Map.of();
    private volatile java.util.OptionalDouble cacheHitRatio = java.util.OptionalDouble.empty();
    /** How often a running batch refreshes {@link #cacheHitRatio}. */
    private static final long HIT_RATIO_PERIOD_NANOS = 1_000_000_000L;
    private long hitRatioRefreshed = System.nanoTime() - HIT_RATIO_PERIOD_NANOS;
    private volatile int runningCount;

    public BatchScheduler(ForwardPass model, Tokenizer tokenizer, KvCache cache, ServeConfig config,
                          ServerMetrics metrics) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.cache = cache;
        this.budget = new KvBudget(cache, config.kvMemoryBytes());
        this.kvMemoryBytes = cache.memoryBytesByTier();
        this.cacheHitRatio = cache.cacheHitRatio();
        this.config = config;
        this.metrics = metrics;
        this.thread = Thread.ofPlatform().name("retroinfer-scheduler").daemon(true).unstarted(this::loop);
        thread.start();
    }

    /**
     * Queues a request. Throws 400 where its worst-case KV memory exceeds the whole budget (it
     * could never run), 429 where too many requests wait already, 503 once closing.
     */
    public Submission submit(SequenceRequest request, SequenceListener listener) {
        long bytes = budget.bytesFor(request.promptLength(), request.maxTokens());
        if (bytes > budget.limit()) {
            throw ApiException.invalid("max_tokens", "kv_memory_exceeded", "This request needs up to " + bytes
                    + " bytes of KV memory (" + request.promptLength() + " prompt tokens + max_tokens "
                    + request.maxTokens() + "), more than the server's whole KV memory limit of " + budget.limit()
                    + " bytes (--kv-memory); shorten the prompt or lower max_tokens");
        }
        if (closing) {
            throw ApiException.unavailable("The server is shutting down");
        }
        if (waitingCount.incrementAndGet() > config.maxWaiting()) {
            waitingCount.decrementAndGet();
            throw ApiException.busy("The server is busy: " + config.maxWaiting()
                    + " requests already wait for KV memory or a batch slot; retry later", 1);
        }
        Submission submission = new Submission();
        incoming.add(new RunningSequence(request, listener, submission, bytes, tokenizer));
        return submission;
    }

    /** Requests submitted and not yet running. */
    public int waiting() {
        return waitingCount.get();
    }

    /** Sequences running (prefilling or decoding), as of the last step. */
    public int running() {
        return runningCount;
    }

    /** Where the KV cache lives: "gpu" for the GPU cache, else "cpu". */
    /** The cache's memory by tier as of the last step ({@link KvCache#memoryBytesByTier}). */
    public java.util.Map<String, Long> kvMemoryBytesByTier() {
        return kvMemoryBytes;
    }

    /** The cache's memory over every tier as of the last step. */
    public long kvMemoryBytes() {
        return kvMemoryBytes.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The GPU block cache's hit ratio over the retrieved clusters so far, empty for a cache without one. */
    public java.util.OptionalDouble cacheHitRatio() {
        return cacheHitRatio;
    }

    public long kvReservedBytes() {
        return budget.reserved();
    }

    public long kvLimitBytes() {
        return budget.limit();
    }

    private void loop() {
        while (!closing) {
            boolean stepped = false;
            try {
                stepped = step();
                if (!stepped) {
                    RunningSequence next = incoming.poll(100, TimeUnit.MILLISECONDS);
                    if (next != null) {
                        waiting.add(next);
                    }
                }
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException | Error e) {
                LOG.error("a batch step failed; its sequences are dropped", e);
                for (RunningSequence s : List.copyOf(running)) {
                    drop(s, ApiException.internal("the server failed while generating: " + e));
                }
            }
            publish(stepped);
        }
        ApiException gone = ApiException.unavailable("The server is shutting down");
        incoming.drainTo(waiting);
        for (RunningSequence s : waiting) {
            s.listener.failed(gone);
        }
        waiting.clear();
        for (RunningSequence s : List.copyOf(running)) {
            drop(s, gone);
        }
        publish(false);
    }

    /** One scheduling step; false where there was nothing to run. */
    private boolean step() {
        incoming.drainTo(waiting);
        dropCancelled();
        admit();
        if (running.isEmpty()) {
            return false;
        }
        forward();
        return true;
    }

    /**
     * The figures {@code /metrics} reads. The hit ratio only after a step of this scheduler's own (a GPU cache whose
     * mapping tables live on the device downloads it, and an idle server must not touch a device another server in the
     * same process may be capturing a CUDA graph on, as serve-bench's alternating modes do), and at most every
     * {@link #HIT_RATIO_PERIOD_NANOS} while sequences run (that download waits for the device) or when the batch
     * drains.
     */
    private void publish(boolean stepped) {
        kvMemoryBytes = cache.memoryBytesByTier();
        runningCount = running.size();
        long now = System.nanoTime();
        if (stepped && (running.isEmpty() || now - hitRatioRefreshed >= HIT_RATIO_PERIOD_NANOS)) {
            cacheHitRatio = cache.cacheHitRatio();
            hitRatioRefreshed = now;
        }
    }

    private void dropCancelled() {
        for (Iterator<RunningSequence> it = waiting.iterator(); it.hasNext(); ) {
            if (it.next().submission.cancelled()) {
                it.remove();
                waitingCount.decrementAndGet();
                metrics.cancelled();
            }
        }
        for (RunningSequence s : List.copyOf(running)) {
            if (s.submission.cancelled()) {
                free(s);
                metrics.cancelled();
            }
        }
    }

    private void admit() {
        while (!waiting.isEmpty() && running.size() < config.maxBatch()
                && budget.tryReserve(waiting.peek().reservedBytes)) {
            RunningSequence s = waiting.poll();
            waitingCount.decrementAndGet();
            SequenceRequest r = s.request;
            if (cache instanceof RetroKvCache retro && (r.retrievalBudget() != null || r.estimationBudget() != null)) {
                s.sequence = retro.openSequence(
                        r.retrievalBudget() != null ? r.retrievalBudget() : retro.config().retrievalBudget(),
                        r.estimationBudget() != null ? r.estimationBudget() : retro.config().estimationBudget());
            } else {
                s.sequence = cache.openSequence();
            }
            running.add(s);
        }
    }

    /**
     * One forward pass: a row for each decoding sequence, then prompt chunks of the prefilling
     * ones, oldest first, up to {@code prefillChunk} prompt tokens in all.
     */
    private void forward() {
        List<RunningSequence> entries = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        for (RunningSequence s : running) {
            if (!s.prefilling()) {
                entries.add(s);
                counts.add(1);
            }
        }
        int decoding = entries.size();
        int prefillTokens = 0;
        for (RunningSequence s : running) {
            if (s.prefilling() && prefillTokens < config.prefillChunk()) {
                int n = Math.min(config.prefillChunk() - prefillTokens, s.request.promptLength() - s.prefilled);
                entries.add(s);
                counts.add(n);
                prefillTokens += n;
            }
        }
        if (!cache.takesMixedSteps() && decoding > 0 && decoding < entries.size()) {
            // the decode rows, then the prompt chunks, as two steps (the GPU RetroInfer cache's rule)
            step(entries.subList(0, decoding), counts.subList(0, decoding));
            step(entries.subList(decoding, entries.size()), counts.subList(decoding, counts.size()));
        } else {
            step(entries, counts);
        }
    }

    /** One forward pass over {@code entries}, {@code counts} rows each, and what follows from its logits. */
    private void step(List<RunningSequence> entries, List<Integer> counts) {
        int rows = counts.stream().mapToInt(Integer::intValue).sum();
        int[] sequences = new int[entries.size()];
        int[] countArray = new int[entries.size()];
        int[] tokens = new int[rows];
        long[] positions = new long[rows];
        List<Integer> logitRows = new ArrayList<>();
        List<RunningSequence> sampled = new ArrayList<>();
        int row = 0;
        for (int i = 0; i < entries.size(); i++) {
            RunningSequence s = entries.get(i);
            sequences[i] = s.sequence;
            countArray[i] = counts.get(i);
            for (int r = 0; r < countArray[i]; r++, row++) {
                positions[row] = s.nextPosition() + r;
                tokens[row] = s.prefilling() ? s.request.promptToken(s.prefilled + r) : s.lastToken;
            }
            if (!s.prefilling() || s.prefilled + countArray[i] == s.request.promptLength()) {
                logitRows.add(row - 1);
                sampled.add(s);
            }
        }
        int[] next = NextTokens.step(model, new BatchLayout(sequences, countArray), tokens, positions, cache,
                logitRows.stream().mapToInt(Integer::intValue).toArray(), sampled.stream().map(s -> s.sampler).toArray(Sampler[]::new),
                sampled.stream().map(s -> s.seen).toArray(BitSet[]::new));
        for (int i = 0; i < entries.size(); i++) {
            RunningSequence s = entries.get(i);
            if (s.prefilling()) {
                s.prefilled += countArray[i];
                metrics.promptTokens(countArray[i]);
                if (!s.prefilling()) {
                    cache.endOfPrefill(s.sequence);
                    metrics.firstToken((System.nanoTime() - s.submittedNanos) / 1e9);
                }
            }
        }
        for (int i = 0; i < sampled.size(); i++) {
            RunningSequence s = sampled.get(i);
            accept(s, next[i]);
        }
    }

    /** Takes a sampled token: streams its text, and ends the sequence where it is done. */
    private void accept(RunningSequence s, int token) {
        s.generated++;
        s.lastToken = token;
        s.seen.set(token);
        metrics.generatedTokens(1);
        if (s.request.stopTokens().contains(token)) {
            finish(s, SequenceListener.FinishReason.STOP);
            return;
        }
        String text = s.stops.push(s.decoder.push(token));
        if (!text.isEmpty()) {
            s.listener.text(text);
        }
        if (s.stops.stopped()) {
            finish(s, SequenceListener.FinishReason.STOP);
        } else if (s.generated >= s.request.maxTokens()) {
            finish(s, SequenceListener.FinishReason.LENGTH);
        }
    }

    private void finish(RunningSequence s, SequenceListener.FinishReason reason) {
        String rest = s.stops.flush();
        if (!rest.isEmpty()) {
            s.listener.text(rest);
        }
        free(s);
        metrics.finished(reason);
        s.listener.finished(reason, s.request.promptLength(), s.generated);
    }

    private void drop(RunningSequence s, ApiException error) {
        free(s);
        s.listener.failed(error);
    }

    /** Closes the cache's sequence and returns its reservation. */
    private void free(RunningSequence s) {
        running.remove(s);
        cache.closeSequence(s.sequence);
        budget.release(s.reservedBytes);
    }

    /** Stops the thread; every request still waiting or running is answered 503. */
    @Override
    public void close() {
        closing = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
