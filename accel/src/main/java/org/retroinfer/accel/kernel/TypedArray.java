package org.retroinfer.accel.kernel;

import java.lang.foreign.MemorySegment;

/**
 * A long-indexed array of one element type over a {@link MemoryRegion}: host, pinned, mapped or device
 * memory. Kernels take the concrete subclasses as parameters; on the GPU they are plain pointers, on the
 * CPU (emulator, host code) their accessors read the region's segment. Arrays in device memory have no
 * host view: their accessors throw instead of reading garbage.
 */
public abstract sealed class TypedArray permits F32Array, HalfPrecisionArray, I32Array, I8Array {
    private final MemoryRegion region;
    private final long length;
    /** The host view, or null for device memory (read through {@link #host()}). */
    private final MemorySegment host;

    TypedArray(MemoryRegion region, ElementType type) {
        int size = type.bytes();
        if (region.byteSize() % size != 0) {
            throw new IllegalArgumentException("a " + type + " array needs a multiple of " + size + " bytes, got "
                    + region.describe());
        }
        if (region.kind().hostAccessible()) {
            MemorySegment seg = region.hostSegment();
            if (seg.isNative() && seg.address() % size != 0) {
                throw new IllegalArgumentException("a " + type + " array must start at a multiple of " + size
                        + " bytes, got address 0x" + Long.toHexString(seg.address()));
            }
            this.host = seg;
        } else {
            this.host = null;
        }
        if (region.kind().deviceAccessible() && region.deviceAddress() % size != 0) {
            throw new IllegalArgumentException("a " + type + " array must start at a multiple of " + size
                    + " bytes on the device, got " + region.describe());
        }
        this.region = region;
        this.length = region.byteSize() / size;
    }

    public abstract ElementType elementType();

    /** Number of elements. */
    public final long length() {
        return length;
    }

    public final long byteSize() {
        return region.byteSize();
    }

    public final MemoryRegion region() {
        return region;
    }

    public final MemoryKind kind() {
        return region.kind();
    }

    /** The host view of the elements; refused for device memory. */
    public final MemorySegment segment() {
        return host();
    }

    /** The device address of element 0; refused for memory the device cannot reach. */
    public final long deviceAddress() {
        return region.deviceAddress();
    }

    final MemorySegment host() {
        if (host == null) {
            throw new IllegalStateException(describe() + " lives in device memory and cannot be read or written on"
                    + " the host; copy it to a host or pinned array first");
        }
        return host;
    }

    /** The region of elements {@code [from, from + count)}. */
    final MemoryRegion sliceRegion(long from, long count) {
        if (from < 0 || count < 0 || from > length - count) {
            throw new IndexOutOfBoundsException("elements [" + from + ", " + from + " + " + count + ") are outside "
                    + describe());
        }
        int size = elementType().bytes();
        return region.slice(from * size, count * size);
    }

    /** Checks that a {@code lanes}-element vector access at {@code index} is in range and 16-byte aligned. */
    final void checkVector(long index, int lanes, String what) {
        if (index < 0 || index > length - lanes) {
            throw new IndexOutOfBoundsException(what + " at element " + index + " reads past the end of " + describe());
        }
        if (index % lanes != 0) {
            throw new IllegalArgumentException(what + " at element " + index + ": the index must be a multiple of "
                    + lanes + " (16-byte vector accesses need 16-byte aligned addresses)");
        }
        MemorySegment seg = host();
        if (seg.isNative() && seg.address() % 16 != 0) {
            throw new IllegalArgumentException(what + " on " + describe() + " at address 0x"
                    + Long.toHexString(seg.address()) + ": 16-byte vector accesses need a 16-byte aligned array");
        }
    }

    /** Names the array type, its length and its memory, for error messages. */
    public final String describe() {
        return getClass().getSimpleName() + "[" + length + "] in " + region.describe();
    }

    @Override
    public String toString() {
        return describe();
    }
}
