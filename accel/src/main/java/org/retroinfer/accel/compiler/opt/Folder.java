package org.retroinfer.accel.compiler.opt;

import org.retroinfer.accel.compiler.ir.Cond;
import org.retroinfer.accel.compiler.ir.Const;
import org.retroinfer.accel.compiler.ir.Conversion;
import org.retroinfer.accel.compiler.ir.Op;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.compiler.ir.Value;
import org.retroinfer.accel.kernel.KMath;

/**
 * Folds operations on constants with Java's semantics, which the GPU code reproduces exactly for these
 * operations (round-to-nearest arithmetic, masked shifts, saturating conversions). This is what makes
 * {@link org.retroinfer.accel.kernel.Constant} specialisation useful: shared-array sizes, loop bounds and
 * branches on specialised values become constants. The approximate functions (exp, log, rsqrt) are not
 * folded, so a kernel computes them the same way whether its inputs are constant or not.
 */
public final class Folder {
    private Folder() {}

    /** The folded value, or null when the operation cannot be folded. */
    public static Value fold(Op op, Type type, Object attribute, Value[] ops) {
        if (op == Op.SELECT && ops[0] instanceof Const p) {
            return p.asBoolean() ? ops[1] : ops[2];
        }
        if (ops.length == 0 || op.hasSideEffects()) {
            return null;
        }
        for (Value v : ops) {
            if (!(v instanceof Const)) {
                return null;
            }
        }
        Const a = ops.length > 0 ? (Const) ops[0] : null;
        Const b = ops.length > 1 ? (Const) ops[1] : null;
        return switch (op) {
            case CONVERT -> convert((Conversion) attribute, a);
            case CMP -> compare((Cond) attribute, a, b);
            case IS_NAN -> Const.pred(isNaN(a) || isNaN(b));
            case CMP3 -> Const.i32(compare3(a, b, (Integer) attribute));
            case PACK_BF16X2 -> Const.i32(KMath.packBf16x2(a.asFloat(), b.asFloat()));
            case DP4A -> Const.i32(KMath.dp4a(a.asInt(), b.asInt(), ((Const) ops[2]).asInt()));
            case FMA -> type == Type.F32 ? Const.f32(Math.fma(a.asFloat(), b.asFloat(), ((Const) ops[2]).asFloat()))
                    : Const.f64(Math.fma(a.asDouble(), b.asDouble(), ((Const) ops[2]).asDouble()));
            default -> switch (type) {
                case I32 -> foldInt(op, a, b);
                case I64 -> foldLong(op, a, b);
                case F32 -> foldFloat(op, a, b);
                case F64 -> foldDouble(op, a, b);
                default -> null;
            };
        };
    }

    private static boolean isNaN(Const c) {
        return c != null && (c.type() == Type.F32 ? Float.isNaN(c.asFloat()) : c.type() == Type.F64 && Double.isNaN(c.asDouble()));
    }

    private static Value foldInt(Op op, Const a, Const b) {
        int x = a.asInt();
        int y = b == null ? 0 : b.asInt();
        return switch (op) {
            case ADD -> Const.i32(x + y);
            case SUB -> Const.i32(x - y);
            case MUL -> Const.i32(x * y);
            case DIV -> y == 0 ? null : Const.i32(x / y);
            case REM -> y == 0 ? null : Const.i32(x % y);
            case AND -> Const.i32(x & y);
            case OR -> Const.i32(x | y);
            case XOR -> Const.i32(x ^ y);
            case SHL -> Const.i32(x << y);
            case SHR -> Const.i32(x >> y);
            case USHR -> Const.i32(x >>> y);
            case NEG -> Const.i32(-x);
            case ABS -> Const.i32(Math.abs(x));
            case MIN -> Const.i32(Math.min(x, y));
            case MAX -> Const.i32(Math.max(x, y));
            case POPC -> Const.i32(Integer.bitCount(x));
            case CLZ -> Const.i32(Integer.numberOfLeadingZeros(x));
            default -> null;
        };
    }

    private static Value foldLong(Op op, Const a, Const b) {
        long x = a.asLong();
        long y = b == null ? 0 : b.asLong();
        return switch (op) {
            case ADD -> Const.i64(x + y);
            case SUB -> Const.i64(x - y);
            case MUL -> Const.i64(x * y);
            case DIV -> y == 0 ? null : Const.i64(x / y);
            case REM -> y == 0 ? null : Const.i64(x % y);
            case AND -> Const.i64(x & y);
            case OR -> Const.i64(x | y);
            case XOR -> Const.i64(x ^ y);
            case SHL -> Const.i64(x << b.asInt());
            case SHR -> Const.i64(x >> b.asInt());
            case USHR -> Const.i64(x >>> b.asInt());
            case NEG -> Const.i64(-x);
            case ABS -> Const.i64(Math.abs(x));
            case MIN -> Const.i64(Math.min(x, y));
            case MAX -> Const.i64(Math.max(x, y));
            default -> null;
        };
    }

    private static Value foldFloat(Op op, Const a, Const b) {
        float x = a.asFloat();
        float y = b == null ? 0 : b.asFloat();
        return switch (op) {
            case ADD -> Const.f32(x + y);
            case SUB -> Const.f32(x - y);
            case MUL -> Const.f32(x * y);
            case DIV -> Const.f32(x / y);
            case NEG -> Const.f32(-x);
            case ABS -> Const.f32(Math.abs(x));
            case MIN -> Const.f32(Math.min(x, y));
            case MAX -> Const.f32(Math.max(x, y));
            case SQRT -> Const.f32((float) Math.sqrt(x));
            default -> null;
        };
    }

    private static Value foldDouble(Op op, Const a, Const b) {
        double x = a.asDouble();
        double y = b == null ? 0 : b.asDouble();
        return switch (op) {
            case ADD -> Const.f64(x + y);
            case SUB -> Const.f64(x - y);
            case MUL -> Const.f64(x * y);
            case DIV -> Const.f64(x / y);
            case NEG -> Const.f64(-x);
            case ABS -> Const.f64(Math.abs(x));
            case MIN -> Const.f64(Math.min(x, y));
            case MAX -> Const.f64(Math.max(x, y));
            case SQRT -> Const.f64(Math.sqrt(x));
            default -> null;
        };
    }

    private static Value convert(Conversion c, Const a) {
        return switch (c) {
            case I2L -> Const.i64(a.asInt());
            case L2I -> Const.i32((int) a.asLong());
            case I2F -> Const.f32(a.asInt());
            case I2D -> Const.f64(a.asInt());
            case L2F -> Const.f32(a.asLong());
            case L2D -> Const.f64(a.asLong());
            case F2I -> Const.i32((int) a.asFloat());
            case F2L -> Const.i64((long) a.asFloat());
            case F2D -> Const.f64(a.asFloat());
            case D2I -> Const.i32((int) a.asDouble());
            case D2L -> Const.i64((long) a.asDouble());
            case D2F -> Const.f32((float) a.asDouble());
            case I2B -> Const.i32((byte) a.asInt());
            case I2S -> Const.i32((short) a.asInt());
            case I2C -> Const.i32((char) a.asInt());
            case F_BITS -> Const.i32(Float.floatToRawIntBits(a.asFloat()));
            case BITS_F -> Const.f32(Float.intBitsToFloat(a.asInt()));
            case D_BITS -> Const.i64(Double.doubleToRawLongBits(a.asDouble()));
            case BITS_D -> Const.f64(Double.longBitsToDouble(a.asLong()));
            case F16_TO_F32 -> Const.f32(Float.float16ToFloat((short) a.asInt()));
            // NaN encodings differ between Java and the GPU: leave NaN conversions to run time
            case F32_TO_F16 -> Float.isNaN(a.asFloat()) ? null : Const.i32(Float.floatToFloat16(a.asFloat()));
            case F32_TO_BF16 -> Float.isNaN(a.asFloat()) ? null
                    : Const.i32(org.retroinfer.accel.kernel.KMath.floatToBf16(a.asFloat()));
        };
    }

    private static Value compare(Cond cond, Const a, Const b) {
        int c;
        switch (a.type()) {
            case I32 -> c = Integer.compare(a.asInt(), b.asInt());
            case I64 -> c = Long.compare(a.asLong(), b.asLong());
            case F32, F64 -> {
                double x = a.type() == Type.F32 ? a.asFloat() : a.asDouble();
                double y = b.type() == Type.F32 ? b.asFloat() : b.asDouble();
                if (Double.isNaN(x) || Double.isNaN(y)) {
                    return Const.pred(cond.unordered());
                }
                c = x < y ? -1 : x > y ? 1 : 0;
            }
            default -> {
                return null;
            }
        }
        return Const.pred(cond.kind().holds(c));
    }

    private static int compare3(Const a, Const b, int nanResult) {
        return switch (a.type()) {
            case I64 -> Long.compare(a.asLong(), b.asLong());
            case F32, F64 -> {
                double x = a.type() == Type.F32 ? a.asFloat() : a.asDouble();
                double y = b.type() == Type.F32 ? b.asFloat() : b.asDouble();
                yield Double.isNaN(x) || Double.isNaN(y) ? nanResult : x < y ? -1 : x > y ? 1 : 0;
            }
            default -> Integer.compare(a.asInt(), b.asInt());
        };
    }
}
