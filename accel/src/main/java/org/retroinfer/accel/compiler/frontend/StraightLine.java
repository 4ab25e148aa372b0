package org.retroinfer.accel.compiler.frontend;

import java.lang.classfile.Instruction;
import java.lang.classfile.Opcode;
import java.lang.classfile.TypeKind;
import java.lang.classfile.instruction.ArrayLoadInstruction;
import java.lang.classfile.instruction.ArrayStoreInstruction;
import java.lang.classfile.instruction.ConstantInstruction;
import java.lang.classfile.instruction.ConvertInstruction;
import java.lang.classfile.instruction.IncrementInstruction;
import java.lang.classfile.instruction.LoadInstruction;
import java.lang.classfile.instruction.NopInstruction;
import java.lang.classfile.instruction.OperatorInstruction;
import java.lang.classfile.instruction.StackInstruction;
import java.lang.classfile.instruction.StoreInstruction;
import java.lang.constant.ConstantDesc;
import org.retroinfer.accel.compiler.ir.Const;
import org.retroinfer.accel.compiler.ir.Conversion;
import org.retroinfer.accel.compiler.ir.MemType;
import org.retroinfer.accel.compiler.ir.Op;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.compiler.ir.Value;

/**
 * The straight-line bytecodes: locals, constants, arithmetic, conversions, Java array accesses and stack
 * shuffles, with Java's semantics (masked shift counts, saturating float-to-int conversions).
 */
final class StraightLine {
    private StraightLine() {}

    /** Translates {@code ins} if it is a straight-line bytecode; false otherwise. */
    static boolean interpret(MethodTranslator t, Instruction ins) {
        switch (ins) {
            case LoadInstruction l -> load(t, l.slot());
            case StoreInstruction s -> store(t, s.slot());
            case IncrementInstruction inc -> {
                Value v = local(t, inc.slot());
                t.state().locals[inc.slot()] = new JValue.Scalar(t.emit(Op.ADD, Type.I32, null, v, Const.i32(inc.constant())));
            }
            case ConstantInstruction c -> constant(t, c.constantValue());
            case OperatorInstruction o -> operator(t, o.opcode());
            case ConvertInstruction c -> convert(t, c.fromType(), c.toType());
            case ArrayLoadInstruction a -> arrayLoad(t, a.typeKind());
            case ArrayStoreInstruction a -> arrayStore(t, a.typeKind());
            case StackInstruction s -> stack(t, s.opcode());
            case NopInstruction n -> {
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private static void load(MethodTranslator t, int slot) {
        JValue v = t.state().locals[slot];
        if (v == null) {
            throw t.error("read of local variable slot " + slot + " before it is assigned", "");
        }
        t.push(v);
    }

    private static Value local(MethodTranslator t, int slot) {
        if (t.state().locals[slot] instanceof JValue.Scalar(Value v)) {
            return v;
        }
        throw t.error("local variable slot " + slot + " does not hold a primitive value", "");
    }

    private static void store(MethodTranslator t, int slot) {
        JValue v = t.pop();
        t.state().locals[slot] = v;
        if (v.wide() && slot + 1 < t.state().locals.length) {
            t.state().locals[slot + 1] = null;
        }
    }

    private static void constant(MethodTranslator t, ConstantDesc c) {
        switch (c) {
            case Integer i -> t.push(Const.i32(i));
            case Long l -> t.push(Const.i64(l));
            case Float f -> t.push(Const.f32(f));
            case Double d -> t.push(Const.f64(d));
            case null -> throw t.error("null references are not supported in kernels", "pass an array argument instead");
            case String s -> throw t.error("strings are not supported in kernels (\"" + s + "\")",
                    "kernels cannot print or build messages; write results into an array");
            default -> throw t.error("constant " + c + " of type " + c.getClass().getSimpleName()
                    + " is not supported in kernels", "use primitive constants");
        }
    }

    private static void operator(MethodTranslator t, Opcode op) {
        switch (op) {
            case IADD -> binary(t, Op.ADD, Type.I32);
            case LADD -> binary(t, Op.ADD, Type.I64);
            case FADD -> binary(t, Op.ADD, Type.F32);
            case DADD -> binary(t, Op.ADD, Type.F64);
            case ISUB -> binary(t, Op.SUB, Type.I32);
            case LSUB -> binary(t, Op.SUB, Type.I64);
            case FSUB -> binary(t, Op.SUB, Type.F32);
            case DSUB -> binary(t, Op.SUB, Type.F64);
            case IMUL -> binary(t, Op.MUL, Type.I32);
            case LMUL -> binary(t, Op.MUL, Type.I64);
            case FMUL -> binary(t, Op.MUL, Type.F32);
            case DMUL -> binary(t, Op.MUL, Type.F64);
            case IDIV -> binary(t, Op.DIV, Type.I32);
            case LDIV -> binary(t, Op.DIV, Type.I64);
            case FDIV -> binary(t, Op.DIV, Type.F32);
            case DDIV -> binary(t, Op.DIV, Type.F64);
            case IREM -> binary(t, Op.REM, Type.I32);
            case LREM -> binary(t, Op.REM, Type.I64);
            case FREM, DREM -> throw t.error("floating-point remainder (%) is not supported on the GPU",
                    "write x - y * (float) (int) (x / y), or restructure to avoid it");
            case IAND -> binary(t, Op.AND, Type.I32);
            case LAND -> binary(t, Op.AND, Type.I64);
            case IOR -> binary(t, Op.OR, Type.I32);
            case LOR -> binary(t, Op.OR, Type.I64);
            case IXOR -> binary(t, Op.XOR, Type.I32);
            case LXOR -> binary(t, Op.XOR, Type.I64);
            case ISHL -> shift(t, Op.SHL, Type.I32);
            case LSHL -> shift(t, Op.SHL, Type.I64);
            case ISHR -> shift(t, Op.SHR, Type.I32);
            case LSHR -> shift(t, Op.SHR, Type.I64);
            case IUSHR -> shift(t, Op.USHR, Type.I32);
            case LUSHR -> shift(t, Op.USHR, Type.I64);
            case INEG -> t.push(t.emit(Op.NEG, Type.I32, null, t.popValue()));
            case LNEG -> t.push(t.emit(Op.NEG, Type.I64, null, t.popValue()));
            case FNEG -> t.push(t.emit(Op.NEG, Type.F32, null, t.popValue()));
            case DNEG -> t.push(t.emit(Op.NEG, Type.F64, null, t.popValue()));
            case LCMP -> compare3(t, 0);
            case FCMPL, DCMPL -> compare3(t, -1);
            case FCMPG, DCMPG -> compare3(t, 1);
            case ARRAYLENGTH -> throw t.error("array.length is not available on the GPU (arrays are bare device pointers)",
                    "pass the length as an int parameter");
            default -> throw t.error("unsupported bytecode " + op, "");
        }
    }

    private static void binary(MethodTranslator t, Op op, Type type) {
        Value b = t.popValue();
        Value a = t.popValue();
        t.push(t.emit(op, type, null, a, b));
    }

    /** Java masks shift counts to 5 (int) or 6 (long) bits; PTX clamps them, so the mask is explicit. */
    private static void shift(MethodTranslator t, Op op, Type type) {
        Value count = t.popValue();
        Value a = t.popValue();
        Value masked = t.emit(Op.AND, Type.I32, null, count, Const.i32(type == Type.I32 ? 31 : 63));
        t.push(t.emit(op, type, null, a, masked));
    }

    /** lcmp/fcmpl/fcmpg: usually consumed by the next if*, which compares the operands directly. */
    private static void compare3(MethodTranslator t, int nanResult) {
        Value b = t.popValue();
        Value a = t.popValue();
        t.push(t.emit(Op.CMP3, Type.I32, nanResult, a, b));
    }

    private static void convert(MethodTranslator t, TypeKind from, TypeKind to) {
        Value a = t.popValue();
        FunctionBuilder fb = t.builder();
        if (from == TypeKind.DOUBLE && to == TypeKind.FLOAT && fb.roundedTo(a) != null) {
            t.push(fb.roundedTo(a)); // (float) (double) f == f, (float) Math.sqrt((double) f) == sqrtf(f)
            return;
        }
        Conversion c = switch (from) {
            case INT -> switch (to) {
                case LONG -> Conversion.I2L;
                case FLOAT -> Conversion.I2F;
                case DOUBLE -> Conversion.I2D;
                case BYTE -> Conversion.I2B;
                case SHORT -> Conversion.I2S;
                case CHAR -> Conversion.I2C;
                default -> throw t.error("conversion int to " + to, "");
            };
            case LONG -> switch (to) {
                case INT -> Conversion.L2I;
                case FLOAT -> Conversion.L2F;
                case DOUBLE -> Conversion.L2D;
                default -> throw t.error("conversion long to " + to, "");
            };
            case FLOAT -> switch (to) {
                case INT -> Conversion.F2I;
                case LONG -> Conversion.F2L;
                case DOUBLE -> Conversion.F2D;
                default -> throw t.error("conversion float to " + to, "");
            };
            case DOUBLE -> switch (to) {
                case INT -> Conversion.D2I;
                case LONG -> Conversion.D2L;
                case FLOAT -> Conversion.D2F;
                default -> throw t.error("conversion double to " + to, "");
            };
            default -> throw t.error("conversion " + from + " to " + to, "");
        };
        Value r = t.emit(Op.CONVERT, resultType(to), c, a);
        if (c == Conversion.F2D) {
            fb.recordWidening(r, a);
        }
        t.push(r);
    }

    static Type resultType(TypeKind k) {
        return switch (k) {
            case LONG -> Type.I64;
            case FLOAT -> Type.F32;
            case DOUBLE -> Type.F64;
            default -> Type.I32;
        };
    }

    private static MemType elementType(MethodTranslator t, TypeKind k) {
        return switch (k) {
            case INT -> MemType.I32;
            case LONG -> MemType.I64;
            case FLOAT -> MemType.F32;
            case DOUBLE -> MemType.F64;
            case BYTE -> MemType.S8;
            case SHORT -> MemType.S16;
            case CHAR -> MemType.U16;
            default -> throw t.error("arrays of objects are not supported in kernels",
                    "use primitive arrays or typed arrays (F32Array, ...)");
        };
    }

    private static void arrayLoad(MethodTranslator t, TypeKind k) {
        MemType type = elementType(t, k);
        Value index = t.popValue();
        Value array = t.popValue();
        Value addr = t.emit(Op.ELEMENT_ADDR, Type.PTR, type.bytes(), array, index);
        t.push(t.emit(Op.LOAD, type.registerType(), type, addr));
    }

    private static void arrayStore(MethodTranslator t, TypeKind k) {
        MemType type = elementType(t, k);
        Value value = t.popValue();
        Value index = t.popValue();
        Value array = t.popValue();
        Value addr = t.emit(Op.ELEMENT_ADDR, Type.PTR, type.bytes(), array, index);
        t.emitEffect(Op.STORE, type.registerType(), type, addr, value);
    }

    /** The JVM stack shuffles; long and double values take two slots ("category 2"). */
    private static void stack(MethodTranslator t, Opcode op) {
        FrameState s = t.state();
        switch (op) {
            case POP -> s.pop();
            case POP2 -> {
                if (!s.pop().wide()) {
                    s.pop();
                }
            }
            case DUP -> s.push(s.peek());
            case DUP_X1 -> {
                JValue v1 = s.pop();
                JValue v2 = s.pop();
                push(s, v1, v2, v1);
            }
            case DUP_X2 -> {
                JValue v1 = s.pop();
                JValue v2 = s.pop();
                if (v2.wide()) {
                    push(s, v1, v2, v1);
                } else {
                    JValue v3 = s.pop();
                    push(s, v1, v3, v2, v1);
                }
            }
            case DUP2 -> {
                JValue v1 = s.pop();
                if (v1.wide()) {
                    push(s, v1, v1);
                } else {
                    JValue v2 = s.pop();
                    push(s, v2, v1, v2, v1);
                }
            }
            case DUP2_X1 -> {
                JValue v1 = s.pop();
                if (v1.wide()) {
                    JValue v2 = s.pop();
                    push(s, v1, v2, v1);
                } else {
                    JValue v2 = s.pop();
                    JValue v3 = s.pop();
                    push(s, v2, v1, v3, v2, v1);
                }
            }
            case DUP2_X2 -> dup2x2(s);
            case SWAP -> {
                JValue v1 = s.pop();
                JValue v2 = s.pop();
                push(s, v1, v2);
            }
            default -> throw t.error("unsupported stack bytecode " + op, "");
        }
    }

    private static void dup2x2(FrameState s) {
        JValue v1 = s.pop();
        if (v1.wide()) {
            JValue v2 = s.pop();
            if (v2.wide()) {
                push(s, v1, v2, v1);
            } else {
                JValue v3 = s.pop();
                push(s, v1, v3, v2, v1);
            }
        } else {
            JValue v2 = s.pop();
            JValue v3 = s.pop();
            if (v3.wide()) {
                push(s, v2, v1, v3, v2, v1);
            } else {
                JValue v4 = s.pop();
                push(s, v2, v1, v4, v3, v2, v1);
            }
        }
    }

    private static void push(FrameState s, JValue... values) {
        for (JValue v : values) {
            s.push(v);
        }
    }
}
