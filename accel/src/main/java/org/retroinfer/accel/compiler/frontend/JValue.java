package org.retroinfer.accel.compiler.frontend;

import java.util.Arrays;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.compiler.ir.Value;

/**
 * What a JVM local or stack slot holds during translation. Most are plain IR values; the
 * {@code KernelContext}, the vector records and objects under construction never become IR values.
 */
sealed interface JValue {
    /** Whether the value takes two JVM slots (long and double). */
    default boolean wide() {
        return false;
    }

    /** A primitive, or an array/typed-array pointer. */
    record Scalar(Value value) implements JValue {
        @Override
        public boolean wide() {
            return value.type() == Type.I64 || value.type() == Type.F64;
        }
    }

    /** The kernel's {@code KernelContext}: its fields and methods are intrinsics. */
    enum ContextRef implements JValue {
        INSTANCE
    }

    /** A {@code Float4}, {@code Float8} or {@code Int4}: one IR value per lane. */
    record Aggregate(VectorShape shape, Value[] lanes) implements JValue {
        @Override
        public boolean equals(Object o) {
            return o instanceof Aggregate a && a.shape == shape && Arrays.equals(a.lanes, lanes);
        }

        @Override
        public int hashCode() {
            return shape.hashCode() * 31 + Arrays.hashCode(lanes);
        }

        @Override
        public String toString() {
            return shape + Arrays.toString(lanes);
        }
    }

    /** The result of {@code new} before its constructor ran (only vector records may be created). */
    record Uninitialized(VectorShape shape, int id) implements JValue {}
}
