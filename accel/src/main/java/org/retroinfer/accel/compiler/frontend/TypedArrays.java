package org.retroinfer.accel.compiler.frontend;

import java.util.Set;
import org.retroinfer.accel.compiler.ir.Const;
import org.retroinfer.accel.compiler.ir.Conversion;
import org.retroinfer.accel.compiler.ir.MemType;
import org.retroinfer.accel.compiler.ir.Op;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.compiler.ir.Value;
import org.retroinfer.accel.kernel.ElementType;

/**
 * The typed-array accessors: scalar loads and stores at a {@code long} index, and the 16-byte vector
 * accesses ({@code ld.v4}/{@code st.v4}) that bandwidth-bound kernels need, with the 16-bit float
 * conversions done in registers.
 */
final class TypedArrays {
    private static final String PACKAGE = "org/retroinfer/accel/kernel/";
    private static final String F32 = PACKAGE + "F32Array";
    private static final String F16 = PACKAGE + "F16Array";
    private static final String BF16 = PACKAGE + "BF16Array";
    private static final String I32 = PACKAGE + "I32Array";
    private static final String I8 = PACKAGE + "I8Array";
    private static final String HALF = PACKAGE + "HalfPrecisionArray";
    private static final Set<String> ALL = Set.of(F32, F16, BF16, I32, I8, HALF);
    private static final String FLOAT4 = "L" + PACKAGE + "Float4;";
    private static final String FLOAT8 = "L" + PACKAGE + "Float8;";
    private static final String INT4 = "L" + PACKAGE + "Int4;";

    private TypedArrays() {}

    static boolean isTypedArray(String internalName) {
        return ALL.contains(internalName);
    }

    /**
     * The array class a call through {@code owner} reads: {@code owner} itself, or for a {@code HalfPrecisionArray}
     * kernel parameter the F16 or BF16 array it was compiled for.
     */
    static String concreteOwner(MethodTranslator t, String owner, Value receiver) {
        if (!owner.equals(HALF)) {
            return owner;
        }
        ElementType type = t.builder().halfType(receiver);
        if (type == null) {
            throw t.error("a call through HalfPrecisionArray on an array that is not a kernel parameter of that type",
                    "pass the HalfPrecisionArray straight from the kernel's parameter (each launch compiles it for F16 or BF16)");
        }
        return type == ElementType.BF16 ? BF16 : F16;
    }

    /** Translates {@code array.<name><descriptor>(...)}; the receiver and arguments are on the stack. */
    static void apply(MethodTranslator t, String owner, String name, String descriptor) {
        String key = name + descriptor;
        if (!owner.equals(F32) && !owner.equals(F16) && !owner.equals(BF16) && !owner.equals(I32) && !owner.equals(I8)) {
            throw t.error("a call through " + simpleName(owner) + " cannot tell which element type it reads",
                    "declare the variable as F32Array, F16Array, BF16Array, I32Array or I8Array, or take a HalfPrecisionArray"
                            + " kernel parameter");
        }
        boolean half = owner.equals(F16) || owner.equals(BF16);
        boolean bf16 = owner.equals(BF16);
        switch (key) {
            case "get(J)F" -> {
                if (half) {
                    Value bits = load(t, MemType.U16);
                    t.push(toFloat(t, bits, bf16));
                } else {
                    t.push(load(t, MemType.F32));
                }
            }
            case "set(JF)V" -> {
                Value v = t.popValue();
                store(t, half ? MemType.U16 : MemType.F32, half ? fromFloat(t, v, bf16) : v);
            }
            case "get(J)I" -> t.push(load(t, MemType.I32));
            case "set(JI)V" -> store(t, MemType.I32, t.popValue());
            case "get(J)B" -> t.push(load(t, MemType.S8));
            case "set(JB)V" -> store(t, MemType.S8, t.popValue());
            case "getBits(J)S" -> t.push(load(t, MemType.S16));
            case "setBits(JS)V" -> store(t, MemType.S16, t.popValue());
            case "getFloat4(J)" + FLOAT4 -> t.push(loadVector(t, MemType.F32, 4, VectorShape.FLOAT4));
            case "setFloat4(J" + FLOAT4 + ")V" -> storeVector(t, MemType.F32, 4);
            case "getInt4(J)" + INT4 -> t.push(loadVector(t, MemType.I32, owner.equals(I8) ? 1 : 4, VectorShape.INT4));
            case "setInt4(J" + INT4 + ")V" -> storeVector(t, MemType.I32, owner.equals(I8) ? 1 : 4);
            case "getFloat8(J)" + FLOAT8 -> t.push(loadHalf8(t, bf16));
            case "getWord(J)I" -> t.push(t.emit(Op.LOAD, Type.I32, MemType.I32, address(t, 2)));
            case "getWords(J)" + INT4 -> t.push(loadVector(t, MemType.I32, 2, VectorShape.INT4));
            case "setFloat8(J" + FLOAT8 + ")V" -> storeHalf8(t, bf16);
            default -> throw t.error(simpleName(owner) + "." + name + " is host-side API, not available in kernels",
                    name.equals("length") ? "pass the length as an int or long parameter"
                            : "kernels use get/set, getBits/setBits and the vector accessors");
        }
    }

    private static String simpleName(String internalName) {
        return internalName.substring(internalName.lastIndexOf('/') + 1);
    }

    private static Value address(MethodTranslator t, int elementBytes) {
        Value index = t.popValue();
        Value array = t.popValue();
        return t.emit(Op.ELEMENT_ADDR, Type.PTR, elementBytes, array, index);
    }

    private static Value load(MethodTranslator t, MemType type) {
        Value addr = address(t, type.bytes());
        return t.emit(Op.LOAD, type.registerType(), type, addr);
    }

    private static void store(MethodTranslator t, MemType type, Value value) {
        Value addr = address(t, type.bytes());
        t.emitEffect(Op.STORE, type.registerType(), type, addr, value);
    }

    private static Value toFloat(MethodTranslator t, Value bits, boolean bf16) {
        return bf16 ? MathIntrinsics.bf16ToFloat(t, bits) : t.emit(Op.CONVERT, Type.F32, Conversion.F16_TO_F32, bits);
    }

    private static Value fromFloat(MethodTranslator t, Value f, boolean bf16) {
        return t.emit(Op.CONVERT, Type.I32, bf16 ? Conversion.F32_TO_BF16 : Conversion.F32_TO_F16, f);
    }

    /** One 16-byte load; {@code elementBytes} scales the index (1 for I8Array, whose index counts bytes). */
    private static JValue loadVector(MethodTranslator t, MemType lane, int elementBytes, VectorShape shape) {
        Value addr = address(t, elementBytes);
        Value v = t.emit(Op.LOAD_V4, lane.registerType(), lane, addr);
        Value[] lanes = new Value[4];
        for (int i = 0; i < 4; i++) {
            lanes[i] = t.emit(Op.EXTRACT, lane.registerType(), i, v);
        }
        return new JValue.Aggregate(shape, lanes);
    }

    private static void storeVector(MethodTranslator t, MemType lane, int elementBytes) {
        JValue.Aggregate v = aggregate(t);
        Value addr = address(t, elementBytes);
        Value[] lanes = v.lanes();
        t.emitEffect(Op.STORE_V4, lane.registerType(), lane, addr, lanes[0], lanes[1], lanes[2], lanes[3]);
    }

    private static JValue.Aggregate aggregate(MethodTranslator t) {
        if (t.pop() instanceof JValue.Aggregate a) {
            return a;
        }
        throw t.error("a vector store needs a Float4, Float8 or Int4 value", "");
    }

    /** Eight 16-bit floats: one 16-byte load as four words, each split into its low and high half. */
    private static JValue loadHalf8(MethodTranslator t, boolean bf16) {
        Value addr = address(t, 2);
        Value v = t.emit(Op.LOAD_V4, Type.I32, MemType.I32, addr);
        Value[] lanes = new Value[8];
        for (int i = 0; i < 4; i++) {
            Value word = t.emit(Op.EXTRACT, Type.I32, i, v);
            Value low = word;
            Value high = t.emit(Op.USHR, Type.I32, null, word, Const.i32(16));
            if (bf16) {
                lanes[2 * i] = t.emit(Op.CONVERT, Type.F32, Conversion.BITS_F, t.emit(Op.SHL, Type.I32, null, word, Const.i32(16)));
                lanes[2 * i + 1] = t.emit(Op.CONVERT, Type.F32, Conversion.BITS_F,
                        t.emit(Op.AND, Type.I32, null, word, Const.i32(0xFFFF0000)));
            } else {
                lanes[2 * i] = t.emit(Op.CONVERT, Type.F32, Conversion.F16_TO_F32, low);
                lanes[2 * i + 1] = t.emit(Op.CONVERT, Type.F32, Conversion.F16_TO_F32, high);
            }
        }
        return new JValue.Aggregate(VectorShape.FLOAT8, lanes);
    }

    private static void storeHalf8(MethodTranslator t, boolean bf16) {
        JValue.Aggregate v = aggregate(t);
        Value addr = address(t, 2);
        Value[] words = new Value[4];
        for (int i = 0; i < 4; i++) {
            Value low = t.emit(Op.AND, Type.I32, null, fromFloat(t, v.lanes()[2 * i], bf16), Const.i32(0xFFFF));
            Value high = t.emit(Op.SHL, Type.I32, null, fromFloat(t, v.lanes()[2 * i + 1], bf16), Const.i32(16));
            words[i] = t.emit(Op.OR, Type.I32, null, low, high);
        }
        t.emitEffect(Op.STORE_V4, Type.I32, MemType.I32, addr, words[0], words[1], words[2], words[3]);
    }
}
