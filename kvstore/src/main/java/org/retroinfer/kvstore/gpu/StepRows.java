package org.retroinfer.kvstore.gpu;

import org.retroinfer.accel.kernel.I32Array;

/**
 * Where a forward step's rows go in a {@link GpuKvCache}, on the device: row {@code r} is position
 * {@code positions[r]} of the sequence in cache slot {@code slots[r]} and attends to its first {@code lengths[r] =
 * positions[r] + 1} tokens. Made once per step by {@link GpuKvCache#prepare} and shared by every layer.
 *
 * @param longest the largest length of the step, which sizes the attention's splits
 */
public record StepRows(int rows, I32Array slots, I32Array positions, I32Array lengths, int longest) {}
