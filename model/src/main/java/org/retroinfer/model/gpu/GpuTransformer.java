package org.retroinfer.model.gpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.retroinfer.accel.Switch;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.kernels.Rope;
import org.retroinfer.kernels.gpu.BlasLinear;
import org.retroinfer.kernels.gpu.DecodeLayerShape;
import org.retroinfer.kernels.gpu.EmbeddingLookup;
import org.retroinfer.kernels.gpu.LinearShape;
import org.retroinfer.kernels.gpu.ResidualAdd;
import org.retroinfer.kernels.gpu.RmsNorm;
import org.retroinfer.kernels.gpu.RopeRotation;
import org.retroinfer.kernels.gpu.RowArgmax;
import org.retroinfer.kernels.gpu.SwiGlu;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.kvstore.gpu.DeviceKvCache;
import org.retroinfer.kvstore.gpu.StepRows;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.transformer.ForwardPass;
import org.retroinfer.model.transformer.RotaryEmbedding;

/**
 * The decoder's forward pass on a {@link Device}: the same steps as the CPU {@link
 * org.retroinfer.model.transformer.Transformer}, each a kernel, with the hidden state on the device from the
 * embedding lookup to the logits of the rows asked for, which are all that comes back (or, for greedy decoding, only
 * each row's choice: {@link #forwardGreedy}). Attention goes through a
 * {@link DeviceKvCache} on the same device (dense or RetroInfer). RoPE's cos and sin are the CPU's own ({@link RotaryEmbedding#angles}), uploaded
 * per step, so both paths rotate by the same floats.
 *
 * <p>Not thread-safe: one step at a time, like the device's single stream.
 */
public final class GpuTransformer implements ForwardPass {
    private static final KernelMethod NORM = KernelMethod.of(RmsNorm.class, "rows");
    /** The residual add of a block's output and the next block's norm, in one launch. */
    private static final KernelMethod NORM_AFTER_RESIDUAL = KernelMethod.of(RmsNorm.class, "rowsAfterResidual");
    private static final KernelMethod HEAD_NORM = KernelMethod.of(RmsNorm.class, "heads");
    private static final KernelMethod SWIGLU = KernelMethod.of(SwiGlu.class, "apply");
    private static final KernelMethod RESIDUAL = KernelMethod.of(ResidualAdd.class, "add");
    private static final KernelMethod GATHER_ROWS = KernelMethod.of(EmbeddingLookup.class, "fromF32");
    private static final KernelMethod ARGMAX = KernelMethod.of(RowArgmax.class, "rows");
    /**
     * Whether k and v run beside q on the device's second queue where the project's kernels take them
     * ({@link #keyValueBeside}); {@code -Dretroinfer.decode.keyValueBeside=off} runs them after q, to compare.
     */
    private static final boolean KEY_VALUE_BESIDE = Switch.on("retroinfer.decode.keyValueBeside");
    /**
     * Whether q, k and v, and gate and up, run as one launch each where the tensor-core kernel takes them
     * ({@link #stackedLaunch}); {@code -Dretroinfer.linear.stacked=off} launches each layer on its own, to compare.
     */
    private static final boolean STACKED = Switch.on("retroinfer.linear.stacked");
    /** Where micro-batches may use cuBLAS too, the SMs its GEMMs are sized for (0: all); -1, the default: they may not. */
    private static final int BLAS_BESIDE = blasBeside(System.getProperty("retroinfer.linear.blasBeside", "off"));

    private final ModelConfig config;
    private final GpuWeights weights;
    private final Device device;
    private final RotaryEmbedding rope;
    private final int maxRows;
    private final float eps;
    private final KernelMethod rotate;
    private final KernelMethod lookup;
    private final Workspace ws;
    /**
     * cuBLAS for the linear layers where {@link LinearShape#blas} picks it and the device has the GPU to itself, or null
     * where no step can take it (see {@link #blasFor}).
     */
    private final BlasLinear blas;
    /** Captured steps, or null where every step runs eagerly. */
    private StepGraphs graphs;
    /** Where profiled steps record their phases, or null. */
    private StepProfile profile;

    /**
     * The arrays of one step, sized for {@code maxRows} rows: on the device, and the staging arrays the host writes
     * the step's inputs into and reads its logits from.
     */
    private static final class Workspace {
        final I32Array tokens, rowIndex, logitRows, chosen, stagedTokens, stagedLogitRows, stagedChosen;
        /** q, k and v, and gate and up: slices of {@code qkv} and {@code gateUp}, as stacked launches write them. */
        final F32Array x, normed, qkv, q, k, v, attention, projected, gateUp, gate, up, cos, sin, selected, logits;
        final F32Array stagedCos, stagedSin, stagedLogits;

        Workspace(Device d, ModelConfig c, int rows) {
            stagedTokens = (I32Array) d.staging(ElementType.I32, rows);
            stagedLogitRows = (I32Array) d.staging(ElementType.I32, rows);
            stagedCos = (F32Array) d.staging(ElementType.F32, (long) rows * c.headDim() / 2);
            stagedSin = (F32Array) d.staging(ElementType.F32, (long) rows * c.headDim() / 2);
            stagedLogits = (F32Array) d.staging(ElementType.F32, (long) rows * c.vocabSize());
            stagedChosen = (I32Array) d.staging(ElementType.I32, rows);
            chosen = d.i32(rows);
            tokens = d.i32(rows);
            rowIndex = d.i32(rows);
            logitRows = d.i32(rows);
            x = d.f32((long) rows * c.hiddenSize());
            normed = d.f32((long) rows * c.hiddenSize());
            long queries = (long) rows * c.queryWidth(), keys = (long) rows * c.kvWidth();
            qkv = d.f32(queries + 2 * keys);
            q = qkv.slice(0, queries);
            k = qkv.slice(queries, keys);
            v = qkv.slice(queries + keys, keys);
            attention = d.f32((long) rows * c.queryWidth());
            projected = d.f32((long) rows * c.hiddenSize());
            long intermediate = (long) rows * c.intermediateSize();
            gateUp = d.f32(2 * intermediate);
            gate = gateUp.slice(0, intermediate);
            up = gateUp.slice(intermediate, intermediate);
            cos = d.f32((long) rows * c.headDim() / 2);
            sin = d.f32((long) rows * c.headDim() / 2);
            selected = d.f32((long) rows * c.hiddenSize());
            logits = d.f32((long) rows * c.vocabSize());
        }
    }

    /** Runs steps of up to {@code maxRows} rows with {@code weights} already on {@code device}. */
    public GpuTransformer(ModelConfig config, GpuWeights weights, Device device, int maxRows) {
        new DecodeLayerShape(maxRows, config.hiddenSize(), config.heads(), config.kvHeads(), config.intermediateSize()); // checks widths
        this.config = config;
        this.weights = weights;
        this.device = device;
        this.rope = new RotaryEmbedding(config);
        this.maxRows = maxRows;
        this.eps = (float) config.rmsNormEps();
        this.rotate = KernelMethod.of(RopeRotation.class, config.ropePairing() == Rope.Pairing.HALVES ? "halves" : "adjacent");
        this.lookup = KernelMethod.of(EmbeddingLookup.class, lookupKernel(weights.embedding()));
        this.ws = new Workspace(device, config, maxRows);
        this.blas = blasFor(config, weights, device, maxRows);
        int[] identity = new int[maxRows];
        for (int r = 0; r < maxRows; r++) identity[r] = r;
        device.upload(MemorySegment.ofArray(identity), ws.rowIndex);
        this.graphs = new StepGraphs(device);
    }

    /**
     * Turns the capture of repeated step shapes into CUDA graphs on or off (on by default): the same kernels with the
     * same arguments either way, so the logits are the same; eager steps are easier to profile.
     */
    public GpuTransformer withGraphs(boolean on) {
        if (!on && graphs != null) {
            graphs.close();
            graphs = null;
        } else if (on && graphs == null) {
            graphs = new StepGraphs(device);
        }
        return this;
    }

    /**
     * Records where the device time of the following steps goes into {@code profile} (null: stop). Profiled steps run
     * eagerly, with an event between phases.
     */
    public GpuTransformer withProfile(StepProfile profile) {
        this.profile = profile;
        return this;
    }

    /** Whether steps of more rows than a row group may go through cuBLAS now (they do where {@link LinearShape#blas} says). */
    boolean blasReady() {
        return blas != null && (BLAS_BESIDE >= 0 || !device.sharesGpu());
    }

    /**
     * Host time from one step's end (its synchronize) to the next step's first launch, summed, and the steps counted:
     * the GPU idles through it, so a step's wall time is its device time plus this.
     */
    private long idleNanos, idleSteps, synchronizedAt;

    /** Milliseconds per step the GPU waited for the host between steps since {@link #resetIdleTime()}. */
    public double idleMillisPerStep() {
        return idleSteps == 0 ? 0 : idleNanos / 1e6 / idleSteps;
    }

    /** Starts {@link #idleMillisPerStep()} afresh; the next step's wait is not counted (nothing ran before it). */
    public void resetIdleTime() {
        idleNanos = 0;
        idleSteps = 0;
        synchronizedAt = 0;
    }

    /** Step shapes captured so far. */
    public int capturedSteps() {
        return graphs == null ? 0 : graphs.size();
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    public Device device() {
        return device;
    }

    public int maxRows() {
        return maxRows;
    }

    @Override
    public void forward(BatchLayout layout, int[] tokens, long[] positions, KvCache cache, int[] logitRows, float[] logits) {
        run(layout, tokens, positions, cache, logitRows, false);
        if (logitRows.length > 0) {
            MemorySegment.copy(ws.stagedLogits.segment(), ValueLayout.JAVA_FLOAT, 0, logits, 0, logitRows.length * config.vocabSize());
        }
    }

    /** Picks each row's token on the device ({@link RowArgmax}), so that one int a row comes back instead of its logits. */
    @Override
    public void forwardGreedy(BatchLayout layout, int[] tokens, long[] positions, KvCache cache, int[] logitRows, int[] next) {
        run(layout, tokens, positions, cache, logitRows, true);
        MemorySegment.copy(ws.stagedChosen.segment(), ValueLayout.JAVA_INT, 0, next, 0, logitRows.length);
    }

    /** One step, its logits or (greedy) its chosen tokens left in the staging arrays. */
    private void run(BatchLayout layout, int[] tokens, long[] positions, KvCache cache, int[] logitRows, boolean greedy) {
        if (!(cache instanceof DeviceKvCache gpuCache) || gpuCache.device() != device) {
            throw new IllegalArgumentException("the GPU transformer attends through a GPU KV cache (dense or RetroInfer) on its"
                    + " own device, got "
                    + cache.getClass().getSimpleName());
        }
        int rows = layout.rows();
        if (tokens.length != rows || positions.length != rows) {
            throw new IllegalArgumentException("a step of " + rows + " rows needs as many tokens and positions, got "
                    + tokens.length + " and " + positions.length);
        }
        if (rows > maxRows) {
            throw new IllegalArgumentException("a step of " + rows + " rows exceeds the GPU transformer's " + maxRows);
        }
        for (int t : tokens) {
            if (t < 0 || t >= config.vocabSize()) {
                throw new IllegalArgumentException("token " + t + " is outside the vocabulary of " + config.vocabSize());
            }
        }
        // host work: the step's inputs into the staging arrays, the cache's rows
        MemorySegment.copy(tokens, 0, ws.stagedTokens.segment(), ValueLayout.JAVA_INT, 0, rows);
        MemorySegment.copy(logitRows, 0, ws.stagedLogitRows.segment(), ValueLayout.JAVA_INT, 0, logitRows.length);
        stageAngles(positions, rows);
        StepRows step = gpuCache.prepare(layout, 0);
        // device work: captured once per step shape and replayed where graphs are on
        Runnable work = () -> enqueue(step, gpuCache, logitRows.length, greedy);
        if (synchronizedAt != 0) {
            idleNanos += System.nanoTime() - synchronizedAt;
            idleSteps++;
        }
        if (profile != null) {
            profile.start(device.mark());
            work.run();
        } else if (graphs != null && gpuCache.capturable(step)) {
            graphs.run(new StepKey(gpuCache, rows, logitRows.length, greedy, step.splits(), step.tileCount()), work);
        } else {
            work.run();
        }
        device.synchronize();
        synchronizedAt = System.nanoTime();
        if (profile != null) {
            profile.finish();
        }
        gpuCache.advanceAll(layout);
    }

    /** What identifies a captured step: every launch argument that is not a fixed address follows from these. */
    record StepKey(DeviceKvCache cache, int rows, int logitRows, boolean greedy, int splits, int tiles) {}

    /** Every copy and launch of one step, in order, and no host work, so that it can be captured. */
    private void enqueue(StepRows step, DeviceKvCache cache, int logitRows, boolean greedy) {
        int rows = step.rows();
        DecodeLayerShape shape = new DecodeLayerShape(rows, config.hiddenSize(), config.heads(), config.kvHeads(),
                config.intermediateSize());
        int pairs = rope.pairs();
        device.copy(ws.stagedTokens.slice(0, rows), ws.tokens);
        device.copy(ws.stagedCos.slice(0, (long) rows * pairs), ws.cos);
        device.copy(ws.stagedSin.slice(0, (long) rows * pairs), ws.sin);
        cache.enqueueRows(step);
        device.launch(lookup, shape.embeddingGrid(), ws.tokens, weights.embedding().array(), ws.x, rows, config.hiddenSize());
        done(StepProfile.Phase.INPUTS);
        for (int l = 0; l < config.layers(); l++) {
            attentionBlock(l, step, shape, cache);
            feedForwardBlock(l, shape);
        }
        // the last block's residual, which no norm of a next block takes
        device.launch(RESIDUAL, shape.residualGrid(), ws.x, ws.projected, shape.hiddenElements());
        done(StepProfile.Phase.ELEMENTWISE);
        if (logitRows > 0) {
            logits(logitRows, greedy);
            done(StepProfile.Phase.LOGITS);
        }
    }

    /** Marks the end of a phase's work where steps are profiled. */
    private void done(StepProfile.Phase phase) {
        if (profile != null) {
            profile.done(device.mark(), phase);
        }
    }

    private void stageAngles(long[] positions, int rows) {
        int pairs = rope.pairs();
        float[] cos = new float[rows * pairs], sin = new float[rows * pairs];
        for (int r = 0; r < rows; r++) {
            rope.angles(positions[r], cos, sin, r * pairs);
        }
        MemorySegment.copy(cos, 0, ws.stagedCos.segment(), ValueLayout.JAVA_FLOAT, 0, cos.length);
        MemorySegment.copy(sin, 0, ws.stagedSin.segment(), ValueLayout.JAVA_FLOAT, 0, sin.length);
    }

    private void attentionBlock(int l, StepRows step, DecodeLayerShape shape, DeviceKvCache cache) {
        GpuWeights.Layer w = weights.layers().get(l);
        int rows = shape.batch();
        norm(l > 0, shape, w.attentionNorm());
        boolean biased = w.queryBias() != null || w.keyBias() != null || w.valueBias() != null;
        if (!stackedProjections(w, rows) && !stackedLaunch(w.qkv(), w.qkvBias(), biased, ws.qkv, rows, w.query().rows(),
                w.query().rows() + w.key().rows())) {
            if (keyValueBeside(w, rows)) {
                // k and v have a group's share of q's outputs (a quarter at Llama 3 8B's shape): too few blocks to fill the
                // GPU, each waits out DRAM's latency alone, so they run on the second queue beside q
                device.branch(() -> {
                    linear(w.key(), w.keyBias(), ws.normed, ws.k, rows);
                    linear(w.value(), w.valueBias(), ws.normed, ws.v, rows);
                });
                linear(w.query(), w.queryBias(), ws.normed, ws.q, rows);
                device.join();
            } else {
                linear(w.query(), w.queryBias(), ws.normed, ws.q, rows);
                linear(w.key(), w.keyBias(), ws.normed, ws.k, rows);
                linear(w.value(), w.valueBias(), ws.normed, ws.v, rows);
            }
        }
        done(StepProfile.Phase.PROJECTIONS);
        if (w.queryNorm() != null) {
            device.launch(HEAD_NORM, shape.headNormGrid(config.heads()), ws.q, w.queryNorm(), ws.q, rows * config.heads(), eps);
        }
        if (w.keyNorm() != null) {
            device.launch(HEAD_NORM, shape.headNormGrid(config.kvHeads()), ws.k, w.keyNorm(), ws.k, rows * config.kvHeads(), eps);
        }
        device.launch(rotate, shape.ropeGrid(), ws.q, ws.k, ws.rowIndex, ws.cos, ws.sin, rows, config.heads(), config.kvHeads());
        done(StepProfile.Phase.NORMS_AND_ROPE);
        cache.append(l, step, ws.k, ws.v);
        done(StepProfile.Phase.KV_APPEND);
        cache.attend(l, step, ws.q, ws.attention);
        done(StepProfile.Phase.ATTENTION);
        linear(w.output(), w.outputBias(), ws.attention, ws.projected, rows); // its residual: the next norm's
        done(StepProfile.Phase.PROJECTIONS);
    }

    private void feedForwardBlock(int l, DecodeLayerShape shape) {
        GpuWeights.Layer w = weights.layers().get(l);
        int rows = shape.batch();
        norm(true, shape, w.feedForwardNorm());
        if (gatedFeedForward(w, rows)) {
            done(StepProfile.Phase.MLP);
        } else {
            if (!stackedLaunch(w.gateUp(), null, false, ws.gateUp, rows, w.gate().rows(), w.gate().rows() + w.up().rows())) {
                linear(w.gate(), null, ws.normed, ws.gate, rows);
                linear(w.up(), null, ws.normed, ws.up, rows);
            }
            done(StepProfile.Phase.MLP);
            device.launch(SWIGLU, shape.swigluGrid(), ws.gate, ws.up, shape.intermediateElements());
            done(StepProfile.Phase.ELEMENTWISE);
        }
        linear(w.down(), null, ws.gate, ws.projected, rows); // its residual: the next norm's, or the step's last
        done(StepProfile.Phase.MLP);
    }

    /**
     * A block's input norm into {@code ws.normed}: after the previous block's output ({@code ws.projected}) is added to
     * the residual stream {@code ws.x} where there is one ({@code afterBlock}), in the same launch.
     */
    private void norm(boolean afterBlock, DecodeLayerShape shape, F32Array weight) {
        if (afterBlock) {
            device.launch(NORM_AFTER_RESIDUAL, shape.normGrid(), ws.x, ws.projected, weight, ws.normed, config.hiddenSize(), eps);
        } else {
            device.launch(NORM, shape.normGrid(), ws.x, weight, ws.normed, config.hiddenSize(), eps);
        }
        done(StepProfile.Phase.NORMS_AND_ROPE);
    }

    /**
     * The final norm and LM head of the rows asked for, gathered first so that only they are multiplied; then their
     * logits, or (greedy) each one's largest logit's index, to the staging arrays.
     */
    private void logits(int n, boolean greedy) {
        DecodeLayerShape selected = new DecodeLayerShape(n, config.hiddenSize(), config.heads(), config.kvHeads(),
                config.intermediateSize());
        device.copy(ws.stagedLogitRows.slice(0, n), ws.logitRows);
        device.launch(GATHER_ROWS, selected.embeddingGrid(), ws.logitRows, ws.x, ws.selected, n, config.hiddenSize());
        device.launch(NORM, selected.normGrid(), ws.selected, weights.finalNorm(), ws.normed, config.hiddenSize(), eps);
        linear(weights.lmHead(), null, ws.normed, ws.logits, n);
        if (greedy) {
            device.launch(ARGMAX, RowArgmax.grid(n, config.vocabSize()), ws.logits, ws.chosen, config.vocabSize());
            device.copy(ws.chosen.slice(0, n), ws.stagedChosen);
        } else {
            device.copy(ws.logits.slice(0, (long) n * config.vocabSize()), ws.stagedLogits);
        }
    }

    /**
     * Scratch for {@link BlasLinear} where a step of up to {@code maxRows} rows can take it (BF16 weights, more rows than a
     * row group), sized for the widest layer; the LM head, wider, goes in slices. Not where the device shares the GPU
     * with a sibling (micro-batches): alone cuBLAS runs a step's linear layers at 45 rows in 8.98 ms against the
     * tensor-core kernel's 12.08, but beside the other micro-batch's PCIe gather the 32K bench decoded 1009 tok/s on
     * average with it against 1042 without (four runs each, NVIDIA H100, docs/results/gpu-retro, "cuBLAS for the
     * linear layers"). Why is not measured: cuBLAS's GEMMs may hold SMs the other micro-batch's gather needs to keep the
     * link busy; {@code -Dretroinfer.linear.blasBeside=N} lets micro-batches use it with its GEMMs sized for N SMs (0:
     * all), to measure that.
     */
    private static BlasLinear blasFor(ModelConfig config, GpuWeights weights, Device device, int maxRows) {
        boolean beside = device.sharesGpu();
        if (beside && BLAS_BESIDE < 0) {
            return null;
        }
        int rows = Math.min(maxRows, LinearShape.GEMM_ROWS - 1);
        int in = Math.max(config.hiddenSize(), Math.max(config.queryWidth(), config.intermediateSize()));
        // as wide as the widest GEMM: the stacked gate and up projections, or q, k and v
        int columns = Math.max(Math.max(config.hiddenSize(), config.queryWidth() + 2 * config.kvWidth()),
                2 * config.intermediateSize());
        ElementType type = weights.layers().getFirst().query().array().elementType();
        if (!new LinearShape(rows, in, columns).blas(type) || !device.blasAvailable()) {
            return null;
        }
        if (beside) {
            device.blasMultiprocessors(BLAS_BESIDE);
        }
        return new BlasLinear(device, rows, in, columns);
    }

    private static int blasBeside(String value) {
        if (value.equals("off")) {
            return -1;
        }
        try {
            int count = Integer.parseInt(value);
            if (count >= 0) {
                return count;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-Dretroinfer.linear.blasBeside must be off or a number of SMs (0: all), got '" + value
                + "'");
    }

    /**
     * The layer's q, k and v projections as one cuBLAS GEMM over their stacked weights, where the step's rows go to cuBLAS
     * ({@link BlasLinear#runStacked}): one read of the input's parts and a GEMM as wide as the three, where k and v alone
     * (1,024 outputs at Llama 3 8B's shape) are too narrow to fill the GPU. False where it does not apply.
     */
    private boolean stackedProjections(GpuWeights.Layer w, int rows) {
        GpuWeights.Matrix qkv = w.qkv();
        if (qkv == null || !throughBlas(qkv, rows)) {
            return false;
        }
        blas.runStacked(ws.normed, (BF16Array) qkv.array(), rows, qkv.cols(), new F32Array[] {ws.q, ws.k, ws.v},
                new int[] {w.query().rows(), w.key().rows(), w.value().rows()},
                new F32Array[] {w.queryBias(), w.keyBias(), w.valueBias()});
        return true;
    }

    /**
     * Stacked layers of the normed input ({@code stack}: q, k and v, or gate and up) in one launch of the tensor-core
     * kernel ({@link LinearShape#TENSOR_CORES_STACKED}), each part's outputs to its slice of {@code y}, where that
     * kernel is the one the layers would take and the parts' biases, if any ({@code biased}), are stacked too. One
     * launch of 192 blocks at Llama 3 8B's shape instead of q's 128 and k's and v's 32 each, which leave most SMs idle
     * while they wait out DRAM's latency. False where it does not apply ({@code -Dretroinfer.linear.stacked=off}: never).
     */
    private boolean stackedLaunch(GpuWeights.Matrix stack, F32Array bias, boolean biased, F32Array y, int rows, int split1, int split2) {
        if (!STACKED || stack == null || (biased && bias == null)) {
            return false;
        }
        LinearShape shape = new LinearShape(rows, stack.cols(), stack.rows());
        ElementType type = stack.array().elementType();
        if (throughBlas(stack, rows) || !shape.stacks(type)) {
            return false;
        }
        device.launch(LinearShape.TENSOR_CORES_STACKED, shape.grid(type), ws.normed, stack.array(), bias == null ? y : bias, y, rows,
                stack.cols(), stack.rows(), bias == null ? 0 : 1, maxRows, split1, split2);
        return true;
    }

    /**
     * Whether k and v run beside q: on the project's kernels (cuBLAS keeps its own stream) in steps that are not profiled
     * (a profile times the phases one after another).
     */
    private boolean keyValueBeside(GpuWeights.Layer w, int rows) {
        return KEY_VALUE_BESIDE && profile == null && !throughBlas(w.query(), rows) && !throughBlas(w.key(), rows) && !throughBlas(w.value(), rows);
    }

    /**
     * The feed-forward's gate and up projections as one cuBLAS GEMM over their stacked weights, SwiGLU applied as its two
     * parts are summed ({@link BlasLinear#runGated}), where the step's rows go to cuBLAS; false where it does not apply.
     */
    private boolean gatedFeedForward(GpuWeights.Layer w, int rows) {
        GpuWeights.Matrix gateUp = w.gateUp();
        if (gateUp == null || !throughBlas(gateUp, rows)) {
            return false;
        }
        blas.runGated(ws.normed, (BF16Array) gateUp.array(), ws.gate, rows, gateUp.cols(), w.gate().rows());
        return true;
    }

    /**
     * Whether {@code rows} rows through {@code w} go to cuBLAS ({@link BlasLinear}) now: {@link LinearShape#blas}, and no
     * more rows than its scratch holds. A prompt chunk of 512 rows or more takes the GEMM kernel where the layer fills
     * the GPU with its blocks; a small model's layers do not, and such a chunk goes to the tensor-core kernel.
     */
    private boolean throughBlas(GpuWeights.Matrix w, int rows) {
        return blasReady() && rows <= blas.maxRows() && new LinearShape(rows, w.cols(), w.rows()).blas(w.array().elementType());
    }

    private void linear(GpuWeights.Matrix w, F32Array bias, F32Array x, F32Array y, int rows) {
        if (throughBlas(w, rows)) {
            blas.run(x, (BF16Array) w.array(), bias, y, rows, w.cols(), w.rows());
            return;
        }
        LinearShape shape = new LinearShape(rows, w.cols(), w.rows());
        ElementType type = w.array().elementType();
        device.launch(shape.kernel(type), shape.grid(type), x, w.array(), bias == null ? y : bias, y, rows,
                w.cols(), w.rows(), bias == null ? 0 : 1);
    }

    private static String lookupKernel(GpuWeights.Matrix table) {
        return switch (table.array().elementType()) {
            case BF16, F16 -> "fromHalf";
            default -> "fromF32";
        };
    }
}
