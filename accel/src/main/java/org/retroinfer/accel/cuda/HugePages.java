package org.retroinfer.accel.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.stream.LongStream;

/**
 * Anonymous host memory in transparent huge pages, faulted in by all cores before the driver pins it. Pinning with
 * {@code cuMemHostAlloc} zeroes and locks 4 KiB pages on the calling thread: about 1.1 GB/s on the H100 machine, so
 * the ~110 GiB host tier of a full batch took ~100 s to allocate. Here the kernel zeroes 2 MiB pages on every core and
 * {@code cuMemHostRegister} then locks pages that are already there.
 */
final class HugePages {
    /** The transparent huge page of x86-64 Linux. */
    static final long SIZE = 2L << 20;
    private static final long TOUCH_STRIDE = 4096; // one write a base page: also right where huge pages are off
    private static final int PROT_READ = 0x1, PROT_WRITE = 0x2, MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20;
    private static final int MADV_HUGEPAGE = 14;
    private static final long MAP_FAILED = -1L;
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final MethodHandle MMAP, MADVISE, MUNMAP;

    static {
        Linker linker = Linker.nativeLinker();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        MMAP = linker.downcallHandle(linker.defaultLookup().findOrThrow("mmap"),
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), errno);
        MADVISE = linker.downcallHandle(linker.defaultLookup().findOrThrow("madvise"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), errno);
        MUNMAP = linker.downcallHandle(linker.defaultLookup().findOrThrow("munmap"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), errno);
    }

    private HugePages() {}

    /**
     * At least {@code bytes} of zeroed memory (a whole number of huge pages), aligned to a huge page and already
     * faulted in; give it back with {@link #unmap}. Where the kernel gives no huge pages (THP off), the same memory
     * comes in base pages, still faulted in on all cores.
     */
    static MemorySegment map(long bytes) {
        long length = Math.ceilDiv(bytes, SIZE) * SIZE;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            // one huge page more than asked, so that an aligned start can be cut out of it
            long mapped = length + SIZE;
            MemorySegment base = (MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, mapped,
                    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
            if (base.address() == MAP_FAILED) {
                throw new OutOfMemoryError("mmap of " + mapped + " bytes of host memory failed (errno " + errno(state)
                        + "): not enough memory for the pinned host tier; ask for fewer sequences");
            }
            long start = (base.address() + SIZE - 1) / SIZE * SIZE;
            unmapRange(base.address(), start - base.address());
            unmapRange(start + length, base.address() + mapped - start - length);
            MemorySegment region = MemorySegment.ofAddress(start).reinterpret(length);
            // advice only: a kernel without THP keeps base pages, which work the same, only slower to fault and pin
            int ignored = (int) MADVISE.invokeExact(state, region, length, MADV_HUGEPAGE);
            touch(region);
            return region;
        } catch (OutOfMemoryError | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("mmap of " + bytes + " bytes failed", t);
        }
    }

    /** Returns memory from {@link #map} to the kernel. */
    static void unmap(MemorySegment region) {
        unmapRange(region.address(), region.byteSize());
    }

    /** Writes every page of {@code region} once, huge page ranges spread over the common pool's threads. */
    private static void touch(MemorySegment region) {
        long pages = region.byteSize() / SIZE;
        LongStream.range(0, pages).parallel().forEach(p -> {
            for (long at = p * SIZE; at < (p + 1) * SIZE; at += TOUCH_STRIDE) {
                region.set(JAVA_BYTE, at, (byte) 0);
            }
        });
    }

    private static void unmapRange(long address, long bytes) {
        if (bytes == 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) MUNMAP.invokeExact(state, MemorySegment.ofAddress(address), bytes);
            if (rc != 0) {
                throw new IllegalStateException("munmap of " + bytes + " bytes at 0x" + Long.toHexString(address)
                        + " failed (errno " + errno(state) + ")");
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("munmap of " + bytes + " bytes failed", t);
        }
    }

    private static int errno(MemorySegment state) {
        return state.get(ValueLayout.JAVA_INT, CALL_STATE.byteOffset(StructLayout.PathElement.groupElement("errno")));
    }
}
