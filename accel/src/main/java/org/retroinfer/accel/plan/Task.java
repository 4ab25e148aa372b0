package org.retroinfer.accel.plan;

import org.retroinfer.accel.cuda.Cublas;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.TypedArray;

/** One step of a {@link TaskGraph}, named for logs and errors ({@code layer_3.attention}). */
sealed interface Task {
    String name();

    /** A copy between host and device memory (or within the device). */
    record Transfer(String name, TypedArray source, TypedArray destination, TransferMode mode) implements Task {}

    /** A Java kernel launch; its arguments are bound when the plan is built. */
    record Launch(String name, KernelMethod kernel, Grid grid, Object[] arguments) implements Task {}

    /** cuBLAS work enqueued on the plan's stream; {@code scalars} are uploaded before any graph capture. */
    record Blas(String name, BlasCall call, float[] scalars) implements Task {}

    /** What a {@link Blas} task does with the plan's cuBLAS handle and stream. */
    @FunctionalInterface
    interface BlasCall {
        void enqueue(Cublas blas, CudaStream stream);
    }
}
