package org.retroinfer.accel.kernel;

/** What a kernel parameter is, which decides how it is passed on the GPU and checked at launch. */
public enum ParameterKind {
    /** The {@link KernelContext}: supplied by the runtime, never passed by the caller. */
    CONTEXT,
    INT,
    LONG,
    FLOAT,
    DOUBLE,
    /** A Java primitive array: a device pointer indexed by {@code int}. */
    JAVA_ARRAY,
    /** One of the {@link TypedArray}s: a device pointer indexed by {@code long}. */
    TYPED_ARRAY
}
