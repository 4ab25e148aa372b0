package org.retroinfer.accel.compiler;

import org.retroinfer.accel.compiler.ir.Cond;
import org.retroinfer.accel.compiler.ir.Conversion;
import org.retroinfer.accel.compiler.ir.Op;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.kernel.KMath;

/** Java-semantics arithmetic on boxed values, for {@link IrInterpreter}. */
final class IrArithmetic {
    private IrArithmetic() {}

    static Object binary(Op op, Type t, Object a, Object b) {
        return switch (t) {
            case I32 -> {
                int x = (Integer) a;
                int y = (Integer) b;
                yield switch (op) {
                    case ADD -> x + y;
                    case SUB -> x - y;
                    case MUL -> x * y;
                    case DIV -> x / y;
                    case REM -> x % y;
                    case AND -> x & y;
                    case OR -> x | y;
                    case XOR -> x ^ y;
                    case SHL -> x << y;
                    case SHR -> x >> y;
                    case USHR -> x >>> y;
                    case MIN -> Math.min(x, y);
                    case MAX -> Math.max(x, y);
                    default -> throw new IllegalStateException(op.toString());
                };
            }
            case I64 -> {
                long x = (Long) a;
                yield switch (op) {
                    case SHL -> x << (Integer) b;
                    case SHR -> x >> (Integer) b;
                    case USHR -> x >>> (Integer) b;
                    default -> {
                        long y = (Long) b;
                        yield switch (op) {
                            case ADD -> x + y;
                            case SUB -> x - y;
                            case MUL -> x * y;
                            case DIV -> x / y;
                            case REM -> x % y;
                            case AND -> x & y;
                            case OR -> x | y;
                            case XOR -> x ^ y;
                            case MIN -> Math.min(x, y);
                            case MAX -> Math.max(x, y);
                            default -> throw new IllegalStateException(op.toString());
                        };
                    }
                };
            }
            case F32 -> {
                float x = (Float) a;
                float y = (Float) b;
                yield switch (op) {
                    case ADD -> x + y;
                    case SUB -> x - y;
                    case MUL -> x * y;
                    case DIV -> x / y;
                    case MIN -> Math.min(x, y);
                    case MAX -> Math.max(x, y);
                    default -> throw new IllegalStateException(op.toString());
                };
            }
            case F64 -> {
                double x = (Double) a;
                double y = (Double) b;
                yield switch (op) {
                    case ADD -> x + y;
                    case SUB -> x - y;
                    case MUL -> x * y;
                    case DIV -> x / y;
                    case MIN -> Math.min(x, y);
                    case MAX -> Math.max(x, y);
                    default -> throw new IllegalStateException(op.toString());
                };
            }
            default -> throw new IllegalStateException(t.toString());
        };
    }

    static Object unary(Op op, Type t, Object a) {
        return switch (op) {
            case NEG -> switch (t) {
                case I32 -> -(Integer) a;
                case I64 -> -(Long) a;
                case F32 -> -(Float) a;
                default -> -(Double) a;
            };
            case ABS -> switch (t) {
                case I32 -> Math.abs((Integer) a);
                case I64 -> Math.abs((Long) a);
                case F32 -> Math.abs((Float) a);
                default -> Math.abs((Double) a);
            };
            case SQRT -> t == Type.F32 ? (Object) (float) Math.sqrt((Float) a) : Math.sqrt((Double) a);
            case RSQRT -> (float) (1.0 / Math.sqrt((Float) a));
            case EXP -> (float) Math.exp((Float) a);
            case LOG -> (float) Math.log((Float) a);
            case POPC -> a instanceof Long l ? Long.bitCount(l) : Integer.bitCount((Integer) a);
            case CLZ -> a instanceof Long l ? Long.numberOfLeadingZeros(l) : Integer.numberOfLeadingZeros((Integer) a);
            default -> throw new IllegalStateException(op.toString());
        };
    }

    static Object convert(Conversion c, Object a) {
        return switch (c) {
            case I2L -> (long) (Integer) a;
            case L2I -> (int) (long) (Long) a;
            case I2F -> (float) (Integer) a;
            case I2D -> (double) (Integer) a;
            case L2F -> (float) (Long) a;
            case L2D -> (double) (Long) a;
            case F2I -> (int) (float) (Float) a;
            case F2L -> (long) (float) (Float) a;
            case F2D -> (double) (Float) a;
            case D2I -> (int) (double) (Double) a;
            case D2L -> (long) (double) (Double) a;
            case D2F -> (float) (double) (Double) a;
            case I2B -> (int) (byte) (int) (Integer) a;
            case I2S -> (int) (short) (int) (Integer) a;
            case I2C -> (int) (char) (int) (Integer) a;
            case F_BITS -> Float.floatToRawIntBits((Float) a);
            case BITS_F -> Float.intBitsToFloat((Integer) a);
            case D_BITS -> Double.doubleToRawLongBits((Double) a);
            case BITS_D -> Double.longBitsToDouble((Long) a);
            case F16_TO_F32 -> Float.float16ToFloat((short) (int) (Integer) a);
            case F32_TO_F16 -> (int) Float.floatToFloat16((Float) a);
            case F32_TO_BF16 -> (int) KMath.floatToBf16((Float) a);
        };
    }

    static boolean isNaN(Object a) {
        return a instanceof Float f ? Float.isNaN(f) : a instanceof Double d && Double.isNaN(d);
    }

    static boolean compare(Cond c, Object a, Object b) {
        if (isNaN(a) || isNaN(b)) {
            return c.unordered();
        }
        return c.kind().holds(compare3(a, b, 0));
    }

    static int compare3(Object a, Object b, int nanResult) {
        return switch (a) {
            case Integer x -> Integer.compare(x, (Integer) b);
            case Long x -> Long.compare(x, (Long) b);
            case Float x -> isNaN(a) || isNaN(b) ? nanResult : x < (Float) b ? -1 : x > (Float) b ? 1 : 0;
            case Double x -> isNaN(a) || isNaN(b) ? nanResult : x < (Double) b ? -1 : x > (Double) b ? 1 : 0;
            default -> throw new IllegalStateException(a.toString());
        };
    }
}
