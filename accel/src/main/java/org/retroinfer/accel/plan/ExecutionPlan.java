package org.retroinfer.accel.plan;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.retroinfer.accel.cuda.Cublas;
import org.retroinfer.accel.cuda.CudaEvent;
import org.retroinfer.accel.cuda.CudaGraph;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.cuda.LoadedKernel;
import org.retroinfer.accel.kernel.MemoryKind;
import org.retroinfer.accel.kernel.TypedArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A built {@link TaskGraph}: kernels loaded, parameter blocks marshalled once, a stream of its own.
 * {@link #execute()} enqueues every task in order and waits; {@link #withCudaGraph()} makes the first
 * execution capture the tasks into a CUDA graph that later executions replay with a single launch.
 * Scalar arguments and array addresses are fixed when the plan is built (pass values that change between
 * executions in a small device or mapped array).
 */
public final class ExecutionPlan implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutionPlan.class);

    /** A task ready to enqueue. */
    private record Step(Task task, Runnable enqueue, boolean firstExecutionOnly) {}

    private final String name;
    private final Gpu gpu;
    private final CudaStream stream;
    private final Arena parameters = Arena.ofShared();
    private final List<Step> steps = new ArrayList<>();
    private boolean useGraph;
    private CudaGraph graph;
    private boolean executedOnce;

    ExecutionPlan(String name, List<Task> tasks, Gpu gpu, Cublas blas) {
        this.name = name;
        this.gpu = gpu;
        this.stream = gpu.createStream();
        for (Task t : tasks) {
            steps.add(prepare(t, blas));
        }
    }

    private Step prepare(Task task, Cublas blas) {
        return switch (task) {
            case Task.Transfer t -> {
                checkTransfer(t);
                yield new Step(t, () -> gpu.copy(t.source(), t.destination(), stream), t.mode() == TransferMode.FIRST_EXECUTION);
            }
            case Task.Launch l -> {
                LoadedKernel k;
                MemorySegment block;
                try {
                    k = gpu.load(l.kernel(), l.arguments());
                    block = gpu.marshal(l.kernel(), l.arguments(), parameters);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("task " + l.name() + " of plan " + name + ": " + e.getMessage(), e);
                }
                yield new Step(l, () -> gpu.launch(k, l.grid(), stream, block), false);
            }
            case Task.Blas b -> {
                if (blas == null) {
                    throw new IllegalArgumentException("task " + b.name() + " of plan " + name
                            + " calls cuBLAS: build the plan with TaskGraph.build(gpu, Cublas.create(gpu))");
                }
                blas.prepareScalars(b.scalars());
                yield new Step(b, () -> b.call().enqueue(blas, stream), false);
            }
        };
    }

    private void checkTransfer(Task.Transfer t) {
        boolean fromDevice = t.source().kind() == MemoryKind.DEVICE;
        boolean toDevice = t.destination().kind() == MemoryKind.DEVICE;
        if (!fromDevice && !toDevice) {
            throw new IllegalArgumentException("transfer " + t.name() + " of plan " + name + " copies " + t.source().describe()
                    + " to " + t.destination().describe() + ": one side must be device memory");
        }
        if (t.destination().byteSize() < t.source().byteSize()) {
            throw new IllegalArgumentException("transfer " + t.name() + " of plan " + name + ": " + t.destination().describe()
                    + " is smaller than " + t.source().describe());
        }
    }

    /** Capture the tasks into a CUDA graph on the next execution and replay it afterwards. */
    public ExecutionPlan withCudaGraph() {
        for (Step s : steps) {
            if (s.task() instanceof Task.Transfer t && !s.firstExecutionOnly()) {
                for (TypedArray side : List.of(t.source(), t.destination())) {
                    if (side.kind() == MemoryKind.HOST) {
                        throw new IllegalArgumentException("transfer " + t.name() + " of plan " + name + " uses " + side.describe()
                                + "; a CUDA graph replays copies asynchronously, so host buffers must be pinned"
                                + " (Gpu.allocatePinned)");
                    }
                }
            }
        }
        useGraph = true;
        return this;
    }

    /** Runs every task in order and waits for the GPU to finish. */
    public void execute() {
        executeAsync();
        stream.synchronize();
    }

    /** Enqueues every task on the plan's stream and returns at once. */
    public void executeAsync() {
        if (!executedOnce) {
            for (Step s : steps) {
                if (s.firstExecutionOnly()) {
                    s.enqueue().run();
                }
            }
        }
        if (useGraph) {
            if (graph == null) {
                graph = CudaGraph.capture(gpu, stream, this::enqueueRecurring);
                LOG.debug("plan {}: captured {} tasks into a CUDA graph", name, steps.size());
            }
            graph.launch(stream);
        } else {
            enqueueRecurring();
        }
        executedOnce = true;
    }

    /** Runs the plan once and returns the GPU time it took, in milliseconds (measured with events). */
    public float executeTimed() {
        try (CudaEvent start = gpu.createEvent(); CudaEvent end = gpu.createEvent()) {
            start.record(stream);
            executeAsync();
            end.record(stream);
            return end.millisSince(start);
        }
    }

    private void enqueueRecurring() {
        for (Step s : steps) {
            if (!s.firstExecutionOnly()) {
                s.enqueue().run();
            }
        }
    }

    public CudaStream stream() {
        return stream;
    }

    /** The task names in execution order. */
    public List<String> taskNames() {
        return steps.stream().map(s -> s.task().name()).toList();
    }

    @Override
    public void close() {
        if (graph != null) {
            graph.close();
            graph = null;
        }
        stream.close();
        parameters.close();
    }
}
