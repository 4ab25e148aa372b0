package org.retroinfer.accel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Random;
import org.retroinfer.accel.cuda.CudaException;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.DeviceBuffer;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.cuda.LoadedKernel;
import org.retroinfer.accel.examples.ExampleCase;
import org.retroinfer.accel.examples.Poison;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.I8Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.MemoryRegion;
import org.retroinfer.accel.kernel.TypedArray;

/**
 * Runs one {@link ExampleCase} on the GPU: builds it on the host, gives every array a device twin,
 * uploads the inputs, poisons the outputs, runs the launches once and checks the results against the
 * Java reference, then times the launches (median of CUDA-event-timed repetitions).
 */
final class CaseRunner {
    private final Gpu gpu;
    private final long elements;
    private final int reps;
    private final LaunchShape shape;
    private final Map<TypedArray, DeviceBuffer> buffers = new IdentityHashMap<>();

    CaseRunner(Gpu gpu, long elements, int reps, LaunchShape shape) {
        this.gpu = gpu;
        this.elements = elements;
        this.reps = reps;
        this.shape = shape;
    }

    Json.Obj run(ExampleCase c, long seed) {
        Json.Obj result = Json.object().put("name", c.name()).put("seed", seed);
        Map<Object, TypedArray> twins = new IdentityHashMap<>();
        try (Arena arena = Arena.ofShared()) {
            int blocks = streamingBlocks(c.kernels().getFirst());
            ExampleCase.Instance instance = c.create(arena, new ExampleCase.Scale(elements, blocks, shape.blockSize()),
                    new Random(seed));
            CudaStream s = gpu.defaultStream();
            for (ExampleCase.Launch l : instance.launches()) {
                for (Object a : l.args()) {
                    if (isArray(a)) {
                        twins.computeIfAbsent(a, this::deviceTwin);
                    }
                }
            }
            for (Object o : instance.outputs()) {
                if (!instance.inputs().contains(o)) {
                    gpu.fill(twins.get(o), (byte) 0xFF, s);
                }
            }
            for (Object o : instance.inputs()) {
                upload(o, twins.get(o), s);
            }
            Object[][] deviceArgs = instance.launches().stream().map(l -> deviceArguments(l.args(), twins)).toArray(Object[][]::new);
            Runnable work = () -> {
                for (int i = 0; i < deviceArgs.length; i++) {
                    ExampleCase.Launch l = instance.launches().get(i);
                    gpu.launch(l.kernel(), l.grid(), s, deviceArgs[i]);
                }
            };
            work.run();
            for (Object o : instance.outputs()) {
                Poison.fill(o);
                download(twins.get(o), o, s);
            }
            s.synchronize();
            ExampleCase.Check check = instance.check();
            double ms = GpuTimer.medianMillis(gpu, s, 2, reps, work);
            double gbps = instance.bytesMoved() / ms / 1e6;
            result.put("ok", check.ok()).put("detail", check.detail()).put("grid", instance.launches().getFirst().grid().toString())
                    .put("ms", ms).put("bytes", instance.bytesMoved()).put("gbps", gbps);
            if (instance.flops() > 0) {
                result.put("gflops", instance.flops() / ms / 1e6);
            }
            Json.Obj regs = Json.object();
            for (ExampleCase.Launch l : instance.launches()) {
                LoadedKernel k = gpu.load(l.kernel(), deviceArguments(l.args(), twins));
                regs.put(k.name(), Json.object().put("registers", k.registers()).put("sharedBytes", k.staticSharedBytes()));
            }
            result.put("kernels", regs);
        } catch (CudaException | IllegalArgumentException | IllegalStateException e) {
            result.put("ok", false).put("detail", e.toString());
        } finally {
            for (TypedArray t : twins.values()) {
                release(t);
            }
        }
        return result;
    }

    /**
     * Blocks for grid-stride kernels, sized from occupancy by the launch shape (the prototype saw 20–40%
     * swings otherwise); a kernel with {@code @Constant} parameters cannot be loaded before its arguments
     * exist, so it gets four blocks per SM and wave.
     */
    private int streamingBlocks(KernelMethod k) {
        if (k.parameters().stream().anyMatch(p -> p.constant())) {
            return gpu.info().multiprocessors() * 4 * shape.waves();
        }
        return gpu.streamingGrid(gpu.load(k), shape.blockSize(), shape.waves()).gridX();
    }

    private TypedArray deviceTwin(Object host) {
        long bytes = switch (host) {
            case TypedArray t -> t.byteSize();
            case long[] a -> 8L * a.length;
            case double[] a -> 8L * a.length;
            case float[] a -> 4L * a.length;
            case int[] a -> 4L * a.length;
            case short[] a -> 2L * a.length;
            case byte[] a -> a.length;
            default -> throw new IllegalArgumentException("no device twin for " + host.getClass());
        };
        DeviceBuffer b = gpu.allocate(Math.max(bytes, 16));
        MemoryRegion exact = b.region().slice(0, bytes);
        TypedArray twin = switch (host) {
            case TypedArray t -> switch (t.elementType()) {
                case F32 -> F32Array.view(exact);
                case F16 -> F16Array.view(exact);
                case BF16 -> BF16Array.view(exact);
                case I32 -> I32Array.view(exact);
                case I8 -> I8Array.view(exact);
            };
            case int[] a -> I32Array.view(exact);
            case short[] a -> F16Array.view(exact);
            case byte[] a -> I8Array.view(exact);
            default -> F32Array.view(exact);
        };
        buffers.put(twin, b);
        return twin;
    }

    private void release(TypedArray twin) {
        DeviceBuffer b = buffers.remove(twin);
        if (b != null) {
            b.close();
        }
    }

    private static boolean isArray(Object a) {
        return a instanceof TypedArray || (a != null && a.getClass().isArray());
    }

    private static Object[] deviceArguments(Object[] args, Map<Object, TypedArray> twins) {
        Object[] out = args.clone();
        for (int i = 0; i < out.length; i++) {
            if (isArray(out[i])) {
                out[i] = twins.get(out[i]);
            }
        }
        return out;
    }

    private void upload(Object host, TypedArray device, CudaStream s) {
        if (host instanceof TypedArray t) {
            gpu.copy(t, device, s);
        } else {
            gpu.copy(segmentOf(host), device, s);
        }
    }

    private void download(TypedArray device, Object host, CudaStream s) {
        if (host instanceof TypedArray t) {
            gpu.copy(device, t, s);
        } else {
            gpu.copy(device, segmentOf(host), s);
        }
    }

    private static MemorySegment segmentOf(Object javaArray) {
        return switch (javaArray) {
            case long[] a -> MemorySegment.ofArray(a);
            case double[] a -> MemorySegment.ofArray(a);
            case float[] a -> MemorySegment.ofArray(a);
            case int[] a -> MemorySegment.ofArray(a);
            case short[] a -> MemorySegment.ofArray(a);
            case byte[] a -> MemorySegment.ofArray(a);
            default -> throw new IllegalArgumentException("not a primitive array: " + javaArray.getClass());
        };
    }
}
