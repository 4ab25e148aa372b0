package org.retroinfer.examples;

import java.util.List;
import java.util.Set;
import org.retroinfer.accel.cuda.CudaException;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.device.CudaDevice;
import org.retroinfer.accel.device.Device;
import org.retroinfer.eval.AttentionMode;
import org.retroinfer.eval.EvalBackend;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.model.Model;
import org.retroinfer.model.gpu.GpuSession;
import org.retroinfer.model.transformer.ForwardPass;

/**
 * Where a command's model runs, from {@code --device cpu|gpu}: the CPU transformer with the attention mode's own
 * cache, or a {@link GpuSession} on CUDA GPU 0 (weights uploaded once) with a dense GPU cache per run. Asking for
 * the GPU where there is none, or for an attention mode the GPU path lacks, is a one-line error, never a quiet run
 * on the CPU.
 */
final class Engine implements AutoCloseable {
    static final Set<String> NAMES = Set.of("device");
    static final String HELP = """
              --device D         cpu (default) or gpu: CUDA GPU 0, every layer a Java kernel compiled to PTX at
                                 run time; --attention full or retro (RetroInfer's wave index built on the GPU,
                                 its keys and values in pinned host memory with a GPU block cache)
            """;

    private final ForwardPass forward;
    private final GpuSession gpu;

    private Engine(ForwardPass forward, GpuSession gpu) {
        this.forward = forward;
        this.gpu = gpu;
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

    /** The engine {@code --device} asks for; {@code maxRows} bounds a GPU step's rows (prefill chunk, batch). */
    static Engine open(Options o, Model model, List<AttentionMode> modes, int maxRows) {
        if (!wantsGpu(o, modes)) {
            return new Engine(model.transformer(), null);
        }
        Device device = openGpu(o);
        try {
            GpuSession session = GpuSession.open(model, device, maxRows);
            return new Engine(session.transformer(), session);
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
                ? org.retroinfer.kvstore.gpu.GpuRetroKvCache.deviceBytesPerSequence(shape, retro.config(), context)
                        + shape.layers() * org.retroinfer.kvstore.gpu.GpuRetroKvCache.storeBytesPerLayer(shape, context)
                : org.retroinfer.kvstore.gpu.GpuKvCache.bytesPerSequence(shape, mode.kvType(), context);
        int slots = (int) Math.min(maxBatch, kvMemory / perSlot);
        if (slots < 1) {
            throw o.error("--kv-memory " + kvMemory + " bytes holds no GPU sequence of " + context + " tokens (" + perSlot
                    + " bytes each); raise --kv-memory or shorten the context");
        }
        try {
            return gpuCache(gpu, mode, slots, context);
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
        return gpu == null ? mode.create(model.config()) : gpuCache(gpu, mode, sequences, capacity);
    }

    /** The GPU cache of {@code mode} (full or retro, the modes {@link #wantsGpu} lets through). */
    private static KvCache gpuCache(GpuSession gpu, AttentionMode mode, int sequences, long capacity) {
        return mode instanceof AttentionMode.Retro retro ? gpu.retroCache(retro.config(), sequences, capacity)
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
                return gpuCache(gpu, mode, 1, capacity);
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
