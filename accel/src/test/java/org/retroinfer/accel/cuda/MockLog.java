package org.retroinfer.accel.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/** Reads what the mock driver recorded: decoded kernel launches and cuGetProcAddress_v2 hits. */
@SuppressWarnings("restricted") // binding native libraries is this class's purpose; run with --enable-native-access
public final class MockLog {
    private final MethodHandle log;
    private final MethodHandle reset;
    private final MethodHandle hits;
    private final MethodHandle registered;

    public MockLog() {
        SymbolLookup lookup = SymbolLookup.libraryLookup(MockNatives.libcuda(), Arena.global());
        Linker linker = Linker.nativeLinker();
        log = linker.downcallHandle(lookup.find("mock_launch_log").orElseThrow(), FunctionDescriptor.of(ADDRESS));
        reset = linker.downcallHandle(lookup.find("mock_reset").orElseThrow(), FunctionDescriptor.ofVoid());
        hits = linker.downcallHandle(lookup.find("mock_proc_address_hits").orElseThrow(), FunctionDescriptor.of(JAVA_INT));
        registered = linker.downcallHandle(lookup.find("mock_registered").orElseThrow(), FunctionDescriptor.of(JAVA_INT));
    }

    public String launches() {
        try {
            return ((MemorySegment) log.invokeExact()).reinterpret(1 << 16).getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public void clear() {
        try {
            reset.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public int procAddressHits() {
        try {
            return (int) hits.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Host ranges registered with the mock driver and not yet unregistered. */
    public int registeredRanges() {
        try {
            return (int) registered.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
