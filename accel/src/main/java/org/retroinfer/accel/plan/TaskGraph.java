package org.retroinfer.accel.plan;

import java.util.ArrayList;
import java.util.List;
import org.retroinfer.accel.cuda.Cublas;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.TypedArray;

/**
 * An ordered list of GPU work, in the spirit of TornadoVM's {@code TaskGraph}: explicit transfers, Java
 * kernel tasks and cuBLAS calls, run in order on one stream. Device arrays stay resident between
 * executions; data moves only where a transfer says so. {@link #build} compiles and loads every kernel and
 * checks every argument up front, so a plan that builds runs.
 *
 * <pre>{@code
 * ExecutionPlan plan = new TaskGraph("layer_0")
 *         .transferToDevice(TransferMode.FIRST_EXECUTION, weightsHost, weights)
 *         .transferToDevice(TransferMode.EVERY_EXECUTION, inputPinned, input)
 *         .task("layer_0.norm", KernelMethod.of(Norms.class, "rmsNorm"), grid, input, normed, dim)
 *         .linear("layer_0.qkv", 1, dim, 3 * dim, normed, weights, qkv)
 *         .transferToHost(qkv, qkvPinned)
 *         .build(gpu, blas)
 *         .withCudaGraph();
 * plan.execute();
 * }</pre>
 */
public final class TaskGraph {
    private final String name;
    private final List<Task> tasks = new ArrayList<>();

    public TaskGraph(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** Copies {@code host} into {@code device} when the plan executes (every time, or the first time only). */
    public TaskGraph transferToDevice(TransferMode mode, TypedArray host, TypedArray device) {
        tasks.add(new Task.Transfer(name + ".toDevice" + tasks.size(), host, device, mode));
        return this;
    }

    /** Copies {@code device} back into {@code host} at this point of every execution. */
    public TaskGraph transferToHost(TypedArray device, TypedArray host) {
        tasks.add(new Task.Transfer(name + ".toHost" + tasks.size(), device, host, TransferMode.EVERY_EXECUTION));
        return this;
    }

    /** A device-to-device copy. */
    public TaskGraph copy(String taskName, TypedArray source, TypedArray destination) {
        tasks.add(new Task.Transfer(taskName, source, destination, TransferMode.EVERY_EXECUTION));
        return this;
    }

    /** Launches {@code kernel} over {@code grid} with {@code arguments} (everything but the KernelContext). */
    public TaskGraph task(String taskName, KernelMethod kernel, Grid grid, Object... arguments) {
        tasks.add(new Task.Launch(taskName, kernel, grid, arguments.clone()));
        return this;
    }

    /** Launches the {@code @Kernel} method {@code kernel} of {@code owner}. */
    public TaskGraph task(String taskName, Class<?> owner, String kernel, Grid grid, Object... arguments) {
        return task(taskName, KernelMethod.of(owner, kernel), grid, arguments);
    }

    /** The row-major linear layer {@code y = x wᵀ} through cuBLAS ({@link Cublas#linear}). */
    public TaskGraph linear(String taskName, int rows, int in, int out, TypedArray x, TypedArray w, TypedArray y) {
        tasks.add(new Task.Blas(taskName, (blas, stream) -> blas.linear(stream, rows, in, out, x, w, y), new float[] {1f, 0f}));
        return this;
    }

    /** Any cuBLAS work; list the alpha/beta values it uses so that they are uploaded before a graph capture. */
    public TaskGraph blas(String taskName, Task.BlasCall call, float... scalars) {
        tasks.add(new Task.Blas(taskName, call, scalars.clone()));
        return this;
    }

    /** Compiles and loads the kernels, checks the arguments, and returns a plan that runs on its own stream. */
    public ExecutionPlan build(Gpu gpu) {
        return build(gpu, null);
    }

    /** As {@link #build(Gpu)}, with the cuBLAS handle that the BLAS tasks use. */
    public ExecutionPlan build(Gpu gpu, Cublas blas) {
        return new ExecutionPlan(name, List.copyOf(tasks), gpu, blas);
    }
}
