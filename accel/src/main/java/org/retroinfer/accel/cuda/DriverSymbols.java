package org.retroinfer.accel.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Resolves the {@link DriverCall}s of one loaded driver library: through {@code cuGetProcAddress_v2} with
 * each call's ABI version (what NVIDIA recommends, and immune to symbol renames), falling back to the
 * exported versioned name.
 */
@SuppressWarnings("restricted") // binding native libraries is this class's purpose; run with --enable-native-access
final class DriverSymbols {
    /** {@code CU_GET_PROC_ADDRESS_LEGACY_STREAM}: the default-stream semantics of a plain C program. */
    private static final long LEGACY_STREAM = 1;
    private static final Linker LINKER = Linker.nativeLinker();

    private final String library;
    private final SymbolLookup lookup;
    private final MethodHandle getProcAddress;
    private int viaProcAddress;

    DriverSymbols(String library, SymbolLookup lookup) {
        this.library = library;
        this.lookup = lookup;
        this.getProcAddress = lookup.find("cuGetProcAddress_v2")
                .map(s -> LINKER.downcallHandle(s, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS)))
                .orElse(null);
    }

    /** The exported symbol itself (for the calls needed before cuInit). */
    MethodHandle exported(DriverCall call) {
        return lookup.find(call.exported).map(s -> LINKER.downcallHandle(s, call.descriptor))
                .orElseThrow(() -> missing(call));
    }

    /** The entry point of {@code call}'s ABI version. */
    MethodHandle resolve(DriverCall call) {
        if (getProcAddress != null) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment pfn = arena.allocate(ADDRESS);
                MemorySegment status = arena.allocate(JAVA_INT);
                int rc = (int) getProcAddress.invokeExact(arena.allocateFrom(call.symbol), pfn, call.version, LEGACY_STREAM, status);
                MemorySegment address = pfn.get(ADDRESS, 0);
                if (rc == 0 && status.get(JAVA_INT, 0) == 0 && address.address() != 0) {
                    viaProcAddress++;
                    return LINKER.downcallHandle(address, call.descriptor);
                }
            } catch (Throwable t) {
                throw new CudaException("cuGetProcAddress_v2(" + call.symbol + ") crashed in " + library, t);
            }
        }
        Optional<MemorySegment> s = lookup.find(call.exported);
        return s.map(seg -> LINKER.downcallHandle(seg, call.descriptor)).orElseThrow(() -> missing(call));
    }

    /** How many calls were resolved through cuGetProcAddress_v2 (the rest by exported name). */
    int resolvedThroughProcAddress() {
        return viaProcAddress;
    }

    private CudaException missing(DriverCall call) {
        return new CudaException(library + " has no " + call.symbol + " (ABI version " + call.version + ", exported as "
                + call.exported + "); the CUDA driver is too old: this runtime needs a driver for CUDA 12 or newer");
    }
}
