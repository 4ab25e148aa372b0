package org.retroinfer.accel.device;

/**
 * A device's count of the bytes it has handed out and not freed, and the most there have been since the count began
 * or its peak was last reset: the bookkeeping behind {@link Device#allocatedBytes()} and
 * {@link Device#peakAllocatedBytes()}, the same for every device.
 */
final class AllocatedBytes {
    private long now;
    private long peak;

    void add(long bytes) {
        now += bytes;
        peak = Math.max(peak, now);
    }

    void remove(long bytes) {
        now -= bytes;
    }

    /** Everything freed at once (the device closed). */
    void clear() {
        now = 0;
    }

    long now() {
        return now;
    }

    long peak() {
        return peak;
    }

    void resetPeak() {
        peak = now;
    }
}
