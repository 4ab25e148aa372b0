package org.retroinfer.accel.compiler.ir;

import java.util.Objects;

/** A constant; equal constants are interchangeable (floats compare by bits, so -0.0 and NaN payloads stay distinct). */
public final class Const extends Value {
    private final long bits;

    private Const(Type type, long bits) {
        super(type);
        this.bits = bits;
    }

    public static Const i32(int v) {
        return new Const(Type.I32, v);
    }

    public static Const i64(long v) {
        return new Const(Type.I64, v);
    }

    public static Const f32(float v) {
        return new Const(Type.F32, Float.floatToRawIntBits(v));
    }

    public static Const f64(double v) {
        return new Const(Type.F64, Double.doubleToRawLongBits(v));
    }

    public static Const pred(boolean v) {
        return new Const(Type.PRED, v ? 1 : 0);
    }

    /** The zero of {@code type} (integers and floats). */
    public static Const zero(Type type) {
        return new Const(type, 0);
    }

    public int asInt() {
        return (int) bits;
    }

    public long asLong() {
        return bits;
    }

    public float asFloat() {
        return Float.intBitsToFloat((int) bits);
    }

    public double asDouble() {
        return Double.longBitsToDouble(bits);
    }

    public boolean asBoolean() {
        return bits != 0;
    }

    /** The raw bits: the int or long value, or the IEEE encoding of a float or double. */
    public long bits() {
        return bits;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Const c && c.type() == type() && c.bits == bits;
    }

    @Override
    public int hashCode() {
        return Objects.hash(type(), bits);
    }

    @Override
    public String toString() {
        return switch (type()) {
            case I32 -> Integer.toString(asInt());
            case I64 -> bits + "L";
            case F32 -> asFloat() + "f";
            case F64 -> Double.toString(asDouble());
            case PRED -> Boolean.toString(asBoolean());
            case PTR -> "0x" + Long.toHexString(bits);
        };
    }
}
