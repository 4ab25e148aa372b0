package org.retroinfer.examples;

import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.retroinfer.accel.cuda.CudaException;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.device.CudaDevice;
import org.retroinfer.accel.device.Device;
import org.retroinfer.eval.AttentionMode;
import org.retroinfer.eval.EvalBackend;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.kvstore.gpu.GpuRetroKvCache;
import org.retroinfer.kvstore.gpu.GpuRetroPlacement;
import org.retroinfer.kvstore.gpu.TierFormats;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.wave.StoreFormat;
import org.retroinfer.model.Model;
import org.retroinfer.model.generation.Generator;
import org.retroinfer.model.gpu.GpuSession;
import org.retroinfer.model.transformer.ForwardPass;

/**
 * Where a command's model runs, from {@code --device cpu|gpu}: the CPU transformer with the attention mode's own
 * cache, or a {@link GpuSession} on CUDA GPU 0 (weights uploaded once) with a dense GPU cache per run. Asking for
 * the GPU where there is none, or for an attention mode the GPU path lacks, is a one-line error, never a quiet run
 * on the CPU.
 */
final class Engine implements AutoCloseable {
    static final Set<String> NAMES = Set.of("device", "host-kv", "gpu-kv", "value-sums", "centroids", "gpu-store-layers",
            "lookups");
    static final String HELP = """
              --device D         cpu (default) or gpu: CUDA GPU 0, every layer a Java kernel compiled to PTX at
                                 run time; --attention full or retro (RetroInfer's wave index built on the GPU,
                                 its keys and values in GPU memory where they fit, else pinned host memory, with
                                 a GPU block cache)
              --host-kv T        with --device gpu --attention retro: the host tier's keys and values as int8 (one
                                 scale per vector: half the host memory and PCIe bytes), int4 (one scale per 32
                                 elements: 31% of them) or the --kv-type (default)
              --gpu-kv T         with --device gpu --attention retro: the GPU tier's keys and values, as --host-kv
                                 (int8 or int4 fit more sequences' stores in GPU memory, read with no PCIe)
              --value-sums T     with --device gpu --attention retro: the index's value sums (read by the estimation
                                 zone only) as int8 (132 bytes a cluster instead of 256: 0.25 GiB less a 128K-token
                                 sequence at Llama 3 8B's shape) or the --kv-type (default)
              --centroids T      with --device gpu --attention retro: the index's centroids, which rank every
                                 cluster each step, as int8 (half the bytes cluster scoring reads, 0.25 GiB less
                                 a 128K-token sequence; ranked against queries rounded to int8 as well) or the
                                 --kv-type (default)
              --gpu-store-layers N
                                 with --device gpu --attention retro: at most N layers' keys and values in GPU
                                 memory (default: as many as fit; 0 puts them all in host memory; all: every
                                 layer's, no host tier, so that nothing is read over PCIe)
              --lookups L        with --device gpu --attention retro: where the wave buffer's mapping tables live
                                 and its lookups and LRU updates run: host (between each layer's launches, as
                                 the spec has it), gpu (kernels; decode steps then run as CUDA graphs),
                                 gpu-stores (gpu for the layers whose keys and values are in GPU memory, host
                                 for the others) or auto (default: gpu, but gpu-stores where a retrieval zone
                                 exceeds 512 clusters, past ~450K-token contexts, where the host's threads walked
                                 the block caches' LRU lists faster)
            """;

    /**
     * Where GPU RetroInfer keeps its cluster-ordered keys and values (each tier's format, and at most how many layers'
     * stores go to GPU memory) and its mapping tables ({@code askedLookups}: null for auto).
     */
    record Tiers(TierFormats formats, int maxDeviceLayers, boolean hostTier, GpuRetroKvCache.Lookups askedLookups) {
        static final Tiers DEFAULT = new Tiers(TierFormats.HALF, Integer.MAX_VALUE, true, null);

        /** Host memory the host tier may pin: what is available less a reserve, none without a host tier. */
        long hostBytes() {
            return GpuSession.hostTierBytes(hostTier);
        }

        /** The lookups asked for, or auto's choice for sequences of {@code capacity} positions. */
        GpuRetroKvCache.Lookups lookups(RetroConfig config, long capacity) {
            return askedLookups != null ? askedLookups : GpuRetroKvCache.fasterLookups(config, capacity);
        }
    }

    private final ForwardPass forward;
    private final GpuSession gpu;
    private final Tiers tiers;

    private Engine(ForwardPass forward, GpuSession gpu, Tiers tiers) {
        this.forward = forward;
        this.gpu = gpu;
        this.tiers = tiers;
    }

    /**
     * {@code --host-kv}, {@code --gpu-kv}, {@code --value-sums}, {@code --centroids}, {@code --gpu-store-layers} and
     * {@code --lookups}, refused by name unless the GPU runs RetroInfer; the formats must be int8, int4 (not for the meta
     * index) or the retro modes' own KV type.
     */
    static Tiers tiers(Options o, List<AttentionMode> modes) {
        String flag = Stream.of("host-kv", "gpu-kv", "value-sums", "centroids", "gpu-store-layers", "lookups").filter(o::has)
                .findFirst()
                .map(name -> "--" + name).orElse(null);
        if (flag == null) {
            return Tiers.DEFAULT;
        }
        if (!o.text("device").orElse("cpu").equals("gpu")) {
            throw o.error(flag + " applies to --device gpu --attention retro only");
        }
        List<AttentionMode.Retro> retros = modes.stream().filter(m -> m instanceof AttentionMode.Retro)
                .map(m -> (AttentionMode.Retro) m).toList();
        if (retros.isEmpty()) {
            throw o.error(flag + " applies to --attention retro only");
        }
        TierFormats formats = new TierFormats(storeFormat(o, "gpu-kv", retros), storeFormat(o, "host-kv", retros),
                metaIndexFormat(o, "value-sums", retros), metaIndexFormat(o, "centroids", retros));
        String storeLayers = o.text("gpu-store-layers").orElse(null);
        boolean all = "all".equals(storeLayers);
        int layers = Integer.MAX_VALUE;
        if (storeLayers != null && !all) {
            try {
                layers = Integer.parseInt(storeLayers);
            } catch (NumberFormatException e) {
                layers = -1;
            }
            if (layers < 0) {
                throw o.error("--gpu-store-layers must be a number of layers (0 or more) or all, got '" + storeLayers + "'");
            }
        }
        String lookupsName = o.text("lookups").orElse("auto");
        GpuRetroKvCache.Lookups lookups = GpuRetroKvCache.Lookups.named(lookupsName);
        if (lookups == null && !lookupsName.equals("auto")) {
            throw o.error("--lookups must be auto, host, gpu or gpu-stores, got '" + lookupsName + "'");
        }
        return new Tiers(formats, layers, !all, lookups);
    }

    /** The store format {@code --<flag>} names, the KV type's own where it is absent. */
    private static StoreFormat storeFormat(Options o, String flag, List<AttentionMode.Retro> retros) {
        StoreFormat format = StoreFormat.HALF;
        if (o.has(flag)) {
            String name = o.text(flag).orElseThrow();
            for (AttentionMode.Retro r : retros) {
                try {
                    format = StoreFormat.parse(name, r.config().storage());
                } catch (IllegalArgumentException e) {
                    throw o.error("--" + flag + " " + e.getMessage());
                }
            }
        }
        return format;
    }

    /**
     * {@code --value-sums} or {@code --centroids}, the meta index's formats: int8, or the retro modes' KV type (the
     * default); INT4 is not offered for them.
     */
    private static StoreFormat metaIndexFormat(Options o, String flag, List<AttentionMode.Retro> retros) {
        String name = o.text(flag).orElse(null);
        if (name == null) {
            return StoreFormat.HALF;
        }
        if (name.equalsIgnoreCase("int8")) {
            return StoreFormat.INT8;
        }
        for (AttentionMode.Retro r : retros) {
            String storage = r.config().storage().name().toLowerCase(java.util.Locale.ROOT);
            if (!name.equalsIgnoreCase(storage)) {
                throw o.error("--" + flag + " must be int8 or the KV type " + storage + ", got '" + name + "'");
            }
        }
        return StoreFormat.HALF;
    }

    /** True for {@code --device gpu}; refuses, by name, attention modes the GPU path lacks. */
    static boolean wantsGpu(Options o, List<AttentionMode> modes) {
        String device = o.text("device").orElse("cpu");
        return switch (device) {
            case "cpu" -> false;
            case "gpu" -> {
                for (AttentionMode mode : modes) {
                    if (!(mode instanceof AttentionMode.Full) && !(mode instanceof AttentionMode.Retro)) {
                        throw o.error("--device gpu runs --attention full or retro; use --device cpu for " + mode.family());
                    }
                }
                yield true;
            }
            default -> throw o.error("--device must be cpu or gpu, got '" + device + "'");
        };
    }

    /**
     * Prompt rows per prefill step on the GPU unless {@code --prefill-chunk} says otherwise: a 256-row chunk gives the
     * tensor-core prefill attention too few blocks to fill an H100 and the linear layers too few rows for the GEMM (a
     * 32K prefill at Llama 3 8B's shape took 15.9 s in chunks of 256, 9.9 s in chunks of 1024, 9.7 s in 4096:
     * docs/results/gpu-prefill).
     */
    static final int GPU_PREFILL_CHUNK = 1024;

    /** {@code --prefill-chunk}, by default {@link Generator#DEFAULT_PREFILL_CHUNK} on the CPU, {@link #GPU_PREFILL_CHUNK} on the GPU. */
    static int prefillChunk(Options o) {
        boolean gpu = o.text("device").orElse("cpu").equals("gpu");
        return o.integer("prefill-chunk", gpu ? GPU_PREFILL_CHUNK : Generator.DEFAULT_PREFILL_CHUNK, 1, 1 << 16);
    }

    /** The engine {@code --device} asks for; {@code maxRows} bounds a GPU step's rows (prefill chunk, batch). */
    static Engine open(Options o, Model model, List<AttentionMode> modes, int maxRows) {
        Tiers tiers = tiers(o, modes);
        if (!wantsGpu(o, modes)) {
            return new Engine(model.transformer(), null, tiers);
        }
        Device device = openGpu(o);
        try {
            GpuSession session = GpuSession.open(model, device, maxRows);
            return new Engine(session.transformer(), session, tiers);
        } catch (IllegalArgumentException e) {
            throw o.error("--device gpu: " + e.getMessage());
        }
    }

    /** CUDA GPU 0, or the one-line error saying why there is none. */
    static Device openGpu(Options o) {
        try {
            return new CudaDevice(Gpu.open());
        } catch (CudaException e) {
            throw o.error("--device gpu: no usable CUDA GPU here: " + e.getMessage());
        }
    }

    /**
     * A server's GPU cache: a slot of {@code context} tokens per sequence, min(maxBatch, kvMemory / slot) of them, or the
     * one-line error where --kv-memory holds none.
     */
    KvCache serverCache(Options o, Model model, AttentionMode mode, int maxBatch, long kvMemory, int context) {
        var shape = model.config().attentionShape();
        long perSlot = mode instanceof AttentionMode.Retro retro
                ? GpuRetroPlacement.deviceBytesPerSequence(shape, retro.config(), context, tiers.lookups(retro.config(), context),
                        tiers.formats())
                        + shape.layers() * GpuRetroPlacement.storeBytesPerLayer(shape, context,
                                tiers.formats().host())
                : org.retroinfer.kvstore.gpu.GpuKvCache.bytesPerSequence(shape, mode.kvType(), context);
        int slots = (int) Math.min(maxBatch, kvMemory / perSlot);
        if (slots < 1) {
            throw o.error("--kv-memory " + kvMemory + " bytes holds no GPU sequence of " + context + " tokens (" + perSlot
                    + " bytes each); raise --kv-memory or shorten the context");
        }
        try {
            return gpuCache(gpu, tiers, mode, slots, context);
        } catch (IllegalArgumentException e) {
            throw o.error("--device gpu: " + e.getMessage() + "; lower --max-batch or --kv-memory");
        }
    }

    ForwardPass forward() {
        return forward;
    }

    boolean onGpu() {
        return gpu != null;
    }

    /** "cpu", or the GPU's name. */
    String device() {
        return gpu == null ? "cpu" : gpu.device().describe();
    }

    /** A fresh cache for {@code mode}, on the GPU sized for {@code sequences} of up to {@code capacity} tokens. */
    KvCache cache(Model model, AttentionMode mode, int sequences, long capacity) {
        return gpu == null ? mode.create(model.config()) : gpuCache(gpu, tiers, mode, sequences, capacity);
    }

    /** The GPU cache of {@code mode} (full or retro, the modes {@link #wantsGpu} lets through). */
    private static KvCache gpuCache(GpuSession gpu, Tiers tiers, AttentionMode mode, int sequences, long capacity) {
        return mode instanceof AttentionMode.Retro retro ? gpu.retroCache(retro.config(), sequences, capacity,
                tiers.formats(), tiers.maxDeviceLayers(), tiers.hostTier(), tiers.lookups(retro.config(), capacity))
                : gpu.cache(mode.kvType(), sequences, capacity);
    }

    /** The evaluation's view of this engine: the CPU's shared prefill, or the GPU's forward pass and caches. */
    EvalBackend evalBackend(Model model) {
        if (gpu == null) {
            return EvalBackend.cpu(model);
        }
        return new EvalBackend() {
            @Override
            public ForwardPass forward() {
                return gpu.transformer();
            }

            @Override
            public KvCache cache(AttentionMode mode, long capacity) {
                return gpuCache(gpu, tiers, mode, 1, capacity);
            }

            @Override
            public boolean sharesPrefill() {
                return false;
            }
        };
    }

    /** The GPU session, or null on the CPU. */
    GpuSession gpu() {
        return gpu;
    }

    @Override
    public void close() {
        if (gpu != null) {
            gpu.close();
        }
    }
}
