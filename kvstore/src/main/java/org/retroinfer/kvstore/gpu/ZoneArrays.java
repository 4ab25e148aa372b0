package org.retroinfer.kvstore.gpu;

import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.I32Array;

/**
 * The small per-group arrays a decode step's RetroInfer kernels read, for every layer: clusters to score, the two zone
 * budgets, the estimation and retrieval zones' lengths and the steady zone's length; and the step's row of each slot.
 * The host writes them into staging memory while it prepares a step, and one copy, enqueued with the step's rows (and
 * so captured with them), moves them all to device memory; a layer whose index an update changed mid-step is copied
 * again alone.
 *
 * <p>Kernels once read these from mapped host memory: every scoring block's read of its row's count crossed PCIe
 * before its first centroid load, which took the 16-bit scoring at 128K x 10 from 0.049 to 0.085 ms on the H200
 * ({@code ClusterRankingGpuCheck}, docs/results/gpu-retro/h200/s8-call-3).
 */
final class ZoneArrays {
    /** Ints per group and layer: count, two budgets, estimation length, retrieval length, steady length. */
    private static final int PER_GROUP = 6;

    private final Device device;
    private final int layers, groups, slots;
    private final I32Array staged, onDevice;

    ZoneArrays(Device device, int layers, int groups, int slots) {
        this.device = device;
        this.layers = layers;
        this.groups = groups;
        this.slots = slots;
        long ints = (long) layers * PER_GROUP * groups + slots;
        staged = (I32Array) device.staging(ElementType.I32, ints);
        onDevice = device.i32(ints);
    }

    /**
     * Stages layer {@code layer}'s arrays, one value per group ({@code budgets}: retrieval then estimation budget of
     * each group).
     */
    void stage(int layer, int[] counts, int[] budgets, int[] estimationLengths, int[] retrieved, int[] steadyLengths) {
        counts(staged, layer).copyFrom(counts);
        budgets(staged, layer).copyFrom(budgets);
        estimationLengths(staged, layer).copyFrom(estimationLengths);
        retrieved(staged, layer).copyFrom(retrieved);
        steadyLengths(staged, layer).copyFrom(steadyLengths);
    }

    /** Stages the step's rows: {@code rowOfSlot[s]} is slot {@code s}'s row (0 for slots outside the step). */
    void stageRows(int[] rowOfSlot) {
        rowOfSlot(staged).copyFrom(rowOfSlot);
    }

    /** Enqueues the copy of every layer's staged arrays and the rows to the device (capturable). */
    void enqueue() {
        device.copy(staged, onDevice);
    }

    /** Enqueues the copy of layer {@code layer}'s staged arrays alone (after an index update restaged it mid-step). */
    void enqueueLayer(int layer) {
        long ints = (long) PER_GROUP * groups;
        device.copy(staged.slice(layerStart(layer), ints), onDevice.slice(layerStart(layer), ints));
    }

    I32Array counts(int layer) {
        return counts(onDevice, layer);
    }

    I32Array budgets(int layer) {
        return budgets(onDevice, layer);
    }

    I32Array estimationLengths(int layer) {
        return estimationLengths(onDevice, layer);
    }

    I32Array retrieved(int layer) {
        return retrieved(onDevice, layer);
    }

    /** The staged retrieval lengths of layer {@code layer}, which the host's lookups read. */
    I32Array stagedRetrieved(int layer) {
        return retrieved(staged, layer);
    }

    I32Array steadyLengths(int layer) {
        return steadyLengths(onDevice, layer);
    }

    I32Array rowOfSlot() {
        return rowOfSlot(onDevice);
    }

    private I32Array counts(I32Array a, int layer) {
        return a.slice(layerStart(layer), groups);
    }

    private I32Array budgets(I32Array a, int layer) {
        return a.slice(layerStart(layer) + groups, 2L * groups);
    }

    private I32Array estimationLengths(I32Array a, int layer) {
        return a.slice(layerStart(layer) + 3L * groups, groups);
    }

    private I32Array retrieved(I32Array a, int layer) {
        return a.slice(layerStart(layer) + 4L * groups, groups);
    }

    private I32Array steadyLengths(I32Array a, int layer) {
        return a.slice(layerStart(layer) + 5L * groups, groups);
    }

    private I32Array rowOfSlot(I32Array a) {
        return a.slice((long) layers * PER_GROUP * groups, slots);
    }

    private long layerStart(int layer) {
        return (long) layer * PER_GROUP * groups;
    }

    /** Device bytes (the staging copy is as many bytes of pinned host memory). */
    long bytes() {
        return onDevice.byteSize();
    }

    void free() {
        device.free(staged);
        device.free(onDevice);
    }
}
