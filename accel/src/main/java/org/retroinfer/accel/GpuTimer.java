package org.retroinfer.accel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.retroinfer.accel.cuda.CudaEvent;
import org.retroinfer.accel.cuda.CudaStream;
import org.retroinfer.accel.cuda.Gpu;

/**
 * Times GPU work with CUDA events: warm-up runs, then {@code reps} runs enqueued back to back with an event
 * after each, and the median of the intervals between consecutive events. One untimed run is queued before
 * the first event, so the GPU is busy while the host enqueues the next run: an interval holds GPU time
 * only, not the host's launch latency (Java marshalling and {@code cuLaunchKernel}, tens of microseconds,
 * a few percent of a half-millisecond kernel), for kernels and {@code cuMemcpyDtoD} alike.
 */
final class GpuTimer {
    private GpuTimer() {}

    /** Median milliseconds of one run of {@code work} (which enqueues on {@code stream}). */
    static double medianMillis(Gpu gpu, CudaStream stream, int warmups, int reps, Runnable work) {
        for (int i = 0; i < warmups; i++) {
            work.run();
        }
        stream.synchronize();
        List<CudaEvent> marks = new ArrayList<>(reps + 1);
        double[] times = new double[reps];
        try {
            for (int i = 0; i <= reps; i++) {
                marks.add(gpu.createEvent());
            }
            work.run();
            marks.getFirst().record(stream);
            for (int i = 0; i < reps; i++) {
                work.run();
                marks.get(i + 1).record(stream);
            }
            for (int i = 0; i < reps; i++) {
                times[i] = marks.get(i + 1).millisSince(marks.get(i));
            }
        } finally {
            marks.forEach(CudaEvent::close);
        }
        Arrays.sort(times);
        return reps % 2 == 1 ? times[reps / 2] : (times[reps / 2 - 1] + times[reps / 2]) / 2;
    }
}
