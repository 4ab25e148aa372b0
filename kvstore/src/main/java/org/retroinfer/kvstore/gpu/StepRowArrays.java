package org.retroinfer.kvstore.gpu;

import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.I32Array;

/**
 * The arrays behind a GPU cache's {@link StepRows}: per row its slot, position and attended length, and the step's
 * prefill tiles (runs of rows of one sequence), written by the host into staging memory while a step is prepared and
 * copied to the device when the step's work is enqueued, so that a captured step replays the copies with the next
 * step's values.
 */
final class StepRowArrays {
    private final Device device;
    private final I32Array slots, positions, lengths, tiles, stagedSlots, stagedPositions, stagedLengths, stagedTiles;

    StepRowArrays(Device device, int maxRows) {
        this.device = device;
        slots = device.i32(maxRows);
        positions = device.i32(maxRows);
        lengths = device.i32(maxRows);
        tiles = device.i32(2L * maxRows);
        stagedSlots = (I32Array) device.staging(ElementType.I32, maxRows);
        stagedPositions = (I32Array) device.staging(ElementType.I32, maxRows);
        stagedLengths = (I32Array) device.staging(ElementType.I32, maxRows);
        stagedTiles = (I32Array) device.staging(ElementType.I32, 2L * maxRows);
    }

    /** Stages row {@code r}: position {@code position} of the sequence in {@code slot}, attending to {@code length}. */
    void set(int r, int slot, int position, int length) {
        stagedSlots.set(r, slot);
        stagedPositions.set(r, position);
        stagedLengths.set(r, length);
    }

    /** Stages tile {@code tile}: rows {@code firstRow … firstRow + rows − 1}, consecutive positions of one sequence. */
    void setTile(int tile, int firstRow, int rows) {
        stagedTiles.set(2L * tile, firstRow);
        stagedTiles.set(2L * tile + 1, rows);
    }

    /** The step of the first {@code rows} staged rows and {@code tileCount} staged tiles, over the device arrays. */
    StepRows step(int rows, int longest, int splits, int tileCount) {
        return new StepRows(rows, slots, positions, lengths, longest, splits, tiles, tileCount);
    }

    /** Enqueues the copies of {@code step}'s staged rows to the device (capturable). */
    void enqueue(StepRows step) {
        device.copy(stagedSlots.slice(0, step.rows()), slots);
        device.copy(stagedPositions.slice(0, step.rows()), positions);
        device.copy(stagedLengths.slice(0, step.rows()), lengths);
        if (step.tileCount() > 0) {
            device.copy(stagedTiles.slice(0, 2L * step.tileCount()), tiles);
        }
    }

    /** The device slots array (for occupancy queries that need one of the step's arrays). */
    I32Array slots() {
        return slots;
    }

    I32Array lengths() {
        return lengths;
    }

    /** Device bytes of the step arrays (the staging copies are pinned host memory). */
    long deviceBytes() {
        return slots.byteSize() + positions.byteSize() + lengths.byteSize() + tiles.byteSize();
    }

    void free() {
        for (I32Array a : new I32Array[] {slots, positions, lengths, tiles, stagedSlots, stagedPositions, stagedLengths,
                stagedTiles}) {
            device.free(a);
        }
    }
}
