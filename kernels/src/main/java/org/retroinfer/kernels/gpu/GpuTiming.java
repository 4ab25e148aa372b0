package org.retroinfer.kernels.gpu;

import java.util.Arrays;
import org.retroinfer.accel.cuda.CudaEvent;
import org.retroinfer.accel.cuda.CudaGraph;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.DeviceBuffer;
import org.retroinfer.accel.cuda.Gpu;

/** How the device check programs of this package time GPU work: one warm-up of the card, medians between events. */
final class GpuTiming {
    private GpuTiming() {}

    /**
     * Keeps the GPU busy with copies for about a second before the first timed shape, so that it does not run
     * at an idle card's clocks. (A first shape once measured at a third of its later rate; this alone did not
     * cure it, and a host still interpreting its first launches is the likelier cause: short launches timed
     * through {@link Gpu#launch(org.retroinfer.accel.kernel.KernelMethod, org.retroinfer.accel.kernel.Grid,
     * CudaStream, Object...)} are host-bound, docs/results/gpu-retro-kernels.)
     */
    static void warmUp(Gpu gpu) {
        try (DeviceBuffer a = gpu.allocate(1L << 30); DeviceBuffer b = gpu.allocate(1L << 30)) {
            CudaStream stream = gpu.defaultStream();
            long until = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() < until) {
                for (int i = 0; i < 10; i++) gpu.copy(a.asBF16(), b.asBF16(), stream);
                stream.synchronize();
            }
        }
    }

    /** Median of 20 back-to-back runs between events, after 3 warm-ups and one untimed run (as accel's GpuTimer). */
    static double medianMillis(Gpu gpu, CudaStream stream, Runnable work) {
        int reps = 20;
        for (int i = 0; i < 3; i++) work.run();
        CudaEvent[] marks = new CudaEvent[reps + 1];
        for (int i = 0; i <= reps; i++) marks[i] = gpu.createEvent();
        work.run();
        marks[0].record(stream);
        for (int i = 0; i < reps; i++) {
            work.run();
            marks[i + 1].record(stream);
        }
        double[] times = new double[reps];
        for (int i = 0; i < reps; i++) times[i] = marks[i + 1].millisSince(marks[i]);
        for (CudaEvent e : marks) e.close();
        Arrays.sort(times);
        return (times[reps / 2 - 1] + times[reps / 2]) / 2;
    }

    /**
     * The device time of one run of {@code work}, free of the host's launch cost: {@value #GRAPH_RUNS} runs captured
     * in one CUDA graph, the graph replayed between events, the median replay over {@value #GRAPH_RUNS}. Short kernels
     * timed by {@link #medianMillis} measure how fast Java launches them (tens of microseconds each), not the kernel;
     * a decode step replays its kernels from a graph, so this is the time that matters there.
     */
    static double graphMillis(Gpu gpu, CudaStream stream, Runnable work) {
        for (int i = 0; i < 3; i++) work.run(); // compiles, loads and warms outside the capture
        try (CudaGraph graph = CudaGraph.capture(gpu, stream, () -> {
            for (int i = 0; i < GRAPH_RUNS; i++) work.run();
        })) {
            return medianMillis(gpu, stream, () -> graph.launch(stream)) / GRAPH_RUNS;
        }
    }

    /** Runs of the timed work a graph of {@link #graphMillis} holds. */
    private static final int GRAPH_RUNS = 20;
}
