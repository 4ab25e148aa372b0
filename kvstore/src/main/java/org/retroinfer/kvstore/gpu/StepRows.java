package org.retroinfer.kvstore.gpu;

import org.retroinfer.accel.kernel.I32Array;

/**
 * Where a forward step's rows go in a {@link GpuKvCache}, on the device: row {@code r} is position
 * {@code positions[r]} of the sequence in cache slot {@code slots[r]} and attends to its first {@code lengths[r] =
 * positions[r] + 1} tokens. Made once per step by {@link GpuKvCache#prepare} and shared by every layer; the arrays are
 * device arrays that {@link GpuKvCache#enqueueRows} fills.
 *
 * @param longest   the largest length of the step
 * @param splits    the attention's splits per (row, KV head): one wave of resident blocks for this step
 * @param tiles     the step's rows cut into runs of one sequence's consecutive positions ({@code [first row, rows]}
 *                  pairs), as many as a prefill attention block holds; none where the cache does not use them
 * @param tileCount the pairs in {@code tiles}
 */
public record StepRows(int rows, I32Array slots, I32Array positions, I32Array lengths, int longest, int splits, I32Array tiles,
        int tileCount) {}
