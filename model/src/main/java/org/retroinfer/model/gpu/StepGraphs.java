package org.retroinfer.model.gpu;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.retroinfer.accel.device.Device;
import org.retroinfer.kvstore.gpu.DeviceKvCache;

/**
 * Forward steps captured as CUDA graphs, one per step shape: a decode step enqueues several hundred kernels (about 15
 * per layer), and launching each from Java costs the host tens of microseconds, as much as the GPU's work at small
 * batches; a replayed graph costs one launch. A shape runs eagerly the first time it is seen (which also compiles
 * and loads its kernels, not something to do inside a capture) and is captured the second time, so one-off shapes
 * (a prompt's last prefill chunk) never pay for a capture. Graphs hold the cache's addresses: a step on another cache
 * drops them all.
 */
final class StepGraphs implements AutoCloseable {
    /** Shapes kept at once; decode needs a handful (batch × split count), prefill one or two. */
    private static final int LIMIT = 64;

    private final Device device;
    private final Map<GpuTransformer.StepKey, Device.Replay> captured = new HashMap<>();
    private final Set<GpuTransformer.StepKey> seen = new HashSet<>();
    private DeviceKvCache cache;

    StepGraphs(Device device) {
        this.device = device;
    }

    /** Enqueues {@code work} for {@code key}: eagerly, by capturing it, or by replaying its capture. */
    void run(GpuTransformer.StepKey key, Runnable work) {
        if (key.cache() != cache) {
            close();
            cache = key.cache();
        }
        Device.Replay replay = captured.get(key);
        if (replay == null && seen.contains(key) && captured.size() < LIMIT) {
            replay = device.capture(work);
            captured.put(key, replay);
        }
        if (replay != null) {
            replay.run();
        } else {
            seen.add(key);
            work.run();
        }
    }

    /** Steps captured so far. */
    int size() {
        return captured.size();
    }

    @Override
    public void close() {
        captured.values().forEach(Device.Replay::close);
        captured.clear();
        seen.clear();
        cache = null;
    }
}
