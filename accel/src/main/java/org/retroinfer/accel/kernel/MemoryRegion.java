package org.retroinfer.accel.kernel;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A contiguous range of bytes and the memory it lives in. Host-accessible regions wrap a
 * {@link MemorySegment}; device-accessible regions carry the device address kernels use. A
 * {@link MemoryKind#DEVICE} region has no segment at all, so device memory can never be dereferenced on
 * the host by accident.
 */
public final class MemoryRegion {
    private final MemoryKind kind;
    private final MemorySegment host;
    private final long deviceAddress;
    private final long byteSize;

    private MemoryRegion(MemoryKind kind, MemorySegment host, long deviceAddress, long byteSize) {
        this.kind = kind;
        this.host = host;
        this.deviceAddress = deviceAddress;
        this.byteSize = byteSize;
    }

    /** Ordinary host memory (heap or off-heap). */
    public static MemoryRegion host(MemorySegment segment) {
        return new MemoryRegion(MemoryKind.HOST, Objects.requireNonNull(segment, "segment"), 0, segment.byteSize());
    }

    /** Page-locked host memory that the runtime allocated (or registered) for asynchronous copies. */
    public static MemoryRegion pinned(MemorySegment segment) {
        requireNative(segment, "pinned");
        return new MemoryRegion(MemoryKind.PINNED_HOST, segment, 0, segment.byteSize());
    }

    /** Page-locked host memory that kernels read at {@code deviceAddress} (zero-copy). */
    public static MemoryRegion mapped(MemorySegment segment, long deviceAddress) {
        requireNative(segment, "mapped");
        requireAddress(deviceAddress);
        return new MemoryRegion(MemoryKind.MAPPED_HOST, segment, deviceAddress, segment.byteSize());
    }

    /** {@code byteSize} bytes of device memory at {@code address}. */
    public static MemoryRegion device(long address, long byteSize) {
        requireAddress(address);
        if (byteSize < 0) {
            throw new IllegalArgumentException("byteSize must not be negative, got " + byteSize);
        }
        return new MemoryRegion(MemoryKind.DEVICE, null, address, byteSize);
    }

    public MemoryKind kind() {
        return kind;
    }

    public long byteSize() {
        return byteSize;
    }

    /** The host view of the bytes; refused for device memory, which the host can only copy. */
    public MemorySegment hostSegment() {
        if (host == null) {
            throw new IllegalStateException(describe() + " cannot be read or written on the host;"
                    + " copy it to a host or pinned buffer first");
        }
        return host;
    }

    /** The address kernels use; refused for memory the device cannot reach. */
    public long deviceAddress() {
        if (!kind.deviceAccessible()) {
            throw new IllegalStateException(describe() + " is not visible to the device;"
                    + " copy it to device memory or allocate it as mapped pinned memory");
        }
        return deviceAddress;
    }

    /** The {@code size} bytes starting {@code offset} bytes into this region. */
    public MemoryRegion slice(long offset, long size) {
        if (offset < 0 || size < 0 || offset > byteSize - size) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + offset + " + " + size + ") is outside "
                    + describe());
        }
        MemorySegment h = host == null ? null : host.asSlice(offset, size);
        long d = kind.deviceAccessible() ? deviceAddress + offset : 0;
        return new MemoryRegion(kind, h, d, size);
    }

    /** A short description naming the kind, size and (for device-visible memory) the address. */
    public String describe() {
        String where = kind.deviceAccessible() ? " at device address 0x" + Long.toHexString(deviceAddress) : "";
        return kind.name().toLowerCase().replace('_', ' ') + " memory of " + byteSize + " bytes" + where;
    }

    @Override
    public String toString() {
        return describe();
    }

    private static void requireNative(MemorySegment segment, String what) {
        Objects.requireNonNull(segment, "segment");
        if (!segment.isNative()) {
            throw new IllegalArgumentException(what + " memory must be a native segment, got a heap segment");
        }
    }

    private static void requireAddress(long address) {
        if (address == 0) {
            throw new IllegalArgumentException("device address must not be 0 (NULL)");
        }
    }
}
