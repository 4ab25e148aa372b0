package org.retroinfer.kvstore.wave;

import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.I32Array;

/**
 * The execution buffer (spec §3.1): per group {@code [steady zone | misses | hits]} of keys and of values, and each
 * group's valid length, in device memory. It is layer-shared, as in the reference: every layer's {@link WaveBuffer}
 * assembles into it, and the attention and cache admission of that layer read it before the next layer's assembly
 * (one stream keeps them in order). At 128K tokens a group's buffer is ~5 MB of K and V, so one per layer would
 * cost a Llama 3 8B sequence about 1.4 GB of GPU memory; one for all layers costs 1/32 of that.
 *
 * @param keys    {@code [groups][stride][64]} ints (vectors of 128 16-bit values)
 * @param values  the same for values
 * @param lengths I32 {@code [groups]}: vectors assembled per group
 * @param stride  vectors per group: the steady zone's stride plus 8 vectors per unit of the most units one assembly
 *                gathers
 */
public record ExecutionBuffer(I32Array keys, I32Array values, I32Array lengths, int groups, int stride) {
    /** Allocates a buffer of {@code groups} groups for a steady zone of {@code steadyStride} and {@code maxUnits} units. */
    public static ExecutionBuffer allocate(Device device, int groups, int steadyStride, int maxUnits) {
        int stride = Math.addExact(steadyStride, Math.multiplyExact(ClusterMappingTable.BLOCK, maxUnits));
        long ints = Math.multiplyExact((long) groups * stride, WaveBuffer.INTS);
        return new ExecutionBuffer(device.i32(ints), device.i32(ints), device.i32(groups), groups, stride);
    }

    /** Frees the buffer's device memory; {@code device} must be the one that allocated it. */
    public void free(Device device) {
        device.free(keys);
        device.free(values);
        device.free(lengths);
    }
}
