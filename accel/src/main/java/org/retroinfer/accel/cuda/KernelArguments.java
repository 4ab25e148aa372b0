package org.retroinfer.accel.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.I8Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.KernelParameter;
import org.retroinfer.accel.kernel.TypedArray;

/**
 * Marshals launch arguments into the {@code void*[]} that {@code cuLaunchKernel} takes, one slot per PTX
 * parameter (every Java parameter but the context, in order). Arrays must be visible to the device
 * (device or mapped memory) and are passed as their device address; a Java array parameter takes the
 * typed array of the same element size ({@code float[]} an {@link F32Array}, {@code int[]} an
 * {@link I32Array}, {@code short[]} a half array, {@code byte[]} an {@link I8Array}, {@code long[]} and
 * {@code double[]} any typed array holding the 8-byte elements).
 */
final class KernelArguments {
    private KernelArguments() {}

    /** The parameter block, allocated in {@code arena} (which must outlive the launch call). */
    static MemorySegment marshal(KernelMethod kernel, Object[] args, Arena arena) {
        Object[] checked = kernel.checkArguments(args);
        List<KernelParameter> params = kernel.arguments();
        MemorySegment block = arena.allocate(ADDRESS, Math.max(1, params.size()));
        for (int i = 0; i < params.size(); i++) {
            KernelParameter p = params.get(i);
            Object a = checked[i];
            MemorySegment slot = switch (p.kind()) {
                case INT -> arena.allocateFrom(JAVA_INT, (Integer) a);
                case LONG -> arena.allocateFrom(JAVA_LONG, (Long) a);
                case FLOAT -> arena.allocateFrom(JAVA_FLOAT, (Float) a);
                case DOUBLE -> arena.allocateFrom(JAVA_DOUBLE, (Double) a);
                case JAVA_ARRAY, TYPED_ARRAY -> arena.allocateFrom(JAVA_LONG, devicePointer(kernel, p, a));
                case CONTEXT -> throw new IllegalStateException("the context is not an argument");
            };
            block.setAtIndex(ADDRESS, i, slot);
        }
        return block;
    }

    private static long devicePointer(KernelMethod kernel, KernelParameter p, Object a) {
        if (!(a instanceof TypedArray t)) {
            throw new IllegalArgumentException(where(kernel, p) + " is a " + a.getClass().getSimpleName() + "; on the GPU pass a typed"
                    + " array in device or mapped memory (Java arrays live on the JVM heap, which the GPU cannot read)");
        }
        boolean fits = switch (p.kind()) {
            case TYPED_ARRAY -> p.type().isInstance(t);
            default -> {
                Class<?> c = p.type();
                yield c == float[].class ? t instanceof F32Array
                        : c == int[].class ? t instanceof I32Array
                        : c == short[].class ? t instanceof HalfPrecisionArray
                        : c == byte[].class ? t instanceof I8Array
                        : t.byteSize() % 8 == 0;
            }
        };
        if (!fits) {
            throw new IllegalArgumentException(where(kernel, p) + " must be " + expected(p) + ", got " + t.describe());
        }
        if (!t.kind().deviceAccessible()) {
            throw new IllegalArgumentException(where(kernel, p) + " is " + t.describe() + ", which the GPU cannot read; copy it to"
                    + " device memory (Gpu.allocate + Gpu.copy) or use mapped pinned memory");
        }
        return t.deviceAddress();
    }

    /** The start of an error message about {@code p}'s argument; made only when one is thrown, as launches are hot. */
    private static String where(KernelMethod kernel, KernelParameter p) {
        return "argument for " + p.describe() + " of " + kernel.describe();
    }

    private static String expected(KernelParameter p) {
        if (p.kind() == org.retroinfer.accel.kernel.ParameterKind.TYPED_ARRAY) {
            return "a " + p.type().getSimpleName();
        }
        Class<?> c = p.type();
        return c == float[].class ? "an F32Array" : c == int[].class ? "an I32Array" : c == short[].class
                ? "an F16Array or BF16Array" : c == byte[].class ? "an I8Array" : "a typed array of 8-byte elements";
    }
}
