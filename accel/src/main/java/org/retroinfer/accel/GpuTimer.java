package org.retroinfer.accel;

import java.util.Arrays;
import org.retroinfer.accel.cuda.CudaEvent;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.Gpu;

/** Times GPU work with CUDA events: warm-up runs, then the median of {@code reps} timed runs. */
final class GpuTimer {
    private GpuTimer() {}

    /** Median milliseconds of one run of {@code work} (which enqueues on {@code stream}). */
    static double medianMillis(Gpu gpu, CudaStream stream, int warmups, int reps, Runnable work) {
        for (int i = 0; i < warmups; i++) {
            work.run();
        }
        stream.synchronize();
        double[] times = new double[reps];
        try (CudaEvent start = gpu.createEvent(); CudaEvent end = gpu.createEvent()) {
            for (int i = 0; i < reps; i++) {
                start.record(stream);
                work.run();
                end.record(stream);
                times[i] = end.millisSince(start);
            }
        }
        Arrays.sort(times);
        return reps % 2 == 1 ? times[reps / 2] : (times[reps / 2 - 1] + times[reps / 2]) / 2;
    }
}
