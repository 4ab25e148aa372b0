package org.retroinfer.accel.compiler.ir;

/** The register types of the IR. Java's boolean, byte, short and char values are {@link #I32}, as in the JVM. */
public enum Type {
    PRED,
    I32,
    I64,
    F32,
    F64,
    /** A 64-bit address; its memory space is inferred ({@link Space}). */
    PTR;

    public boolean isFloat() {
        return this == F32 || this == F64;
    }

    public boolean isInteger() {
        return this == I32 || this == I64;
    }
}
