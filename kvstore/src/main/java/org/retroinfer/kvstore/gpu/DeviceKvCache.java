package org.retroinfer.kvstore.gpu;

import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.KvCache;

/**
 * A KV cache whose attention runs on a {@link Device}, as the GPU transformer drives it: {@link #prepare} (host work)
 * and {@link #enqueueRows} once per step, {@link #append} and {@link #attend} per layer on device arrays, and
 * {@link #advanceAll} after the step. Dense caches ({@link GpuKvCache}) only enqueue device work in a step, so that
 * the step can be captured as a CUDA graph; RetroInfer's ({@link GpuRetroKvCache}) waits for each layer's selected
 * clusters and looks them up on the host between launches, and says so through {@link #capturable}.
 */
public interface DeviceKvCache extends KvCache {
    Device device();

    /** The most rows one step may have. */
    int maxRows();

    /** Writes where the step's rows go (host work; {@code layer} is the layer whose lengths the rows follow). */
    StepRows prepare(BatchLayout batch, int layer);

    /** Enqueues the copies of a prepared step's rows to the device. */
    void enqueueRows(StepRows step);

    /** Enqueues the storing of the step's keys and values ({@code [rows][kvHeads][headDim]} F32 on the device). */
    void append(int layer, StepRows step, F32Array k, F32Array v);

    /** Enqueues the attention of the step's queries ({@code [rows][queryHeads][headDim]} F32) into {@code out}. */
    void attend(int layer, StepRows step, F32Array q, F32Array out);

    /** Records that every layer now holds {@code batch}'s rows. */
    void advanceAll(BatchLayout batch);

    /**
     * Whether {@code step}'s appends and attention enqueue device work only, the same for every step of its shape, so
     * that it may be captured once and replayed.
     */
    boolean capturable(StepRows step);
}
