package org.retroinfer.accel.compiler.opt;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import org.retroinfer.accel.compiler.ir.Block;
import org.retroinfer.accel.compiler.ir.Const;
import org.retroinfer.accel.compiler.ir.Function;
import org.retroinfer.accel.compiler.ir.Instr;
import org.retroinfer.accel.compiler.ir.Op;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.compiler.ir.Value;

/**
 * Integer division and remainder by a constant power of two become shifts and masks. ptxas leaves {@code div.s32 x, 4}
 * a full division (a float reciprocal and a dozen integer instructions; nvcc's front end does this rewrite, not ptxas):
 * in {@code StoreDecode.partialsInt4Bf16} sixteen of them, a lane's slice over eight and four, made a third of the
 * token loop (docs/results/gpu-retro/h200/s11-call-3). Java's division truncates toward zero, so a negative dividend
 * first gets {@code 2^k − 1} added (its sign bit spread and shifted down): {@code x / 2^k = (x + bias) >> k} and
 * {@code x % 2^k = x − ((x + bias) & −2^k)}; a dividend known not to be negative (a thread or lane index, a value masked,
 * shifted down or taken modulo) needs no bias: {@code x >> k} and {@code x & (2^k − 1)}. Division by 1 is the dividend,
 * remainder by 1 is 0. Other divisors (and negative ones) stay divisions.
 */
public final class StrengthReduction {
    private StrengthReduction() {}

    public static void run(Function f) {
        Map<Value, Value> replace = new HashMap<>();
        for (Block b : f.blocks()) {
            for (Instr i : new ArrayList<>(b.instrs())) {
                int k = (i.op() == Op.DIV || i.op() == Op.REM) && i.type().isInteger() ? powerOfTwo(i.operand(1)) : -1;
                if (k < 0) {
                    continue;
                }
                replace.put(i, reduce(b, i, k));
                b.instrs().remove(i);
            }
        }
        ValueRewriter.apply(f, replace);
    }

    /** The shifts and masks that compute {@code i}, a division or remainder by {@code 2^k}, inserted before it. */
    private static Value reduce(Block b, Instr i, int k) {
        Type t = i.type();
        Value x = i.operand(0);
        if (k == 0) {
            return i.op() == Op.DIV ? x : Const.zero(t);
        }
        if (nonNegative(x, 0)) {
            return i.op() == Op.DIV ? b.insertBefore(i, Op.SHR, t, null, x, Const.i32(k))
                    : b.insertBefore(i, Op.AND, t, null, x, integer(t, (1L << k) - 1));
        }
        int bits = t == Type.I32 ? 32 : 64;
        Instr sign = b.insertBefore(i, Op.SHR, t, null, x, Const.i32(bits - 1));
        Instr bias = b.insertBefore(i, Op.USHR, t, null, sign, Const.i32(bits - k));
        Instr biased = b.insertBefore(i, Op.ADD, t, null, x, bias);
        if (i.op() == Op.DIV) {
            return b.insertBefore(i, Op.SHR, t, null, biased, Const.i32(k));
        }
        Instr multiple = b.insertBefore(i, Op.AND, t, null, biased, integer(t, -(1L << k)));
        return b.insertBefore(i, Op.SUB, t, null, x, multiple);
    }

    /**
     * Whether {@code v} is certainly not negative: a constant that is not, a special register (thread, block and lane
     * indices and sizes), a population or leading-zero count, or a value derived from such by operations that cannot make
     * it negative. Sums and products can overflow, so they do not count; phis are not followed.
     */
    private static boolean nonNegative(Value v, int depth) {
        if (v instanceof Const c) {
            return c.type().isInteger() && c.asLong() >= 0;
        }
        if (!(v instanceof Instr i) || depth > 8) {
            return false;
        }
        return switch (i.op()) {
            case SPECIAL, POPC, CLZ -> true;
            case AND, MAX -> nonNegative(i.operand(0), depth + 1) || nonNegative(i.operand(1), depth + 1);
            case MIN, SELECT -> nonNegative(i.operand(i.op() == Op.SELECT ? 1 : 0), depth + 1)
                    && nonNegative(i.operand(i.op() == Op.SELECT ? 2 : 1), depth + 1);
            case USHR -> i.operand(1) instanceof Const c && c.asInt() > 0 || nonNegative(i.operand(0), depth + 1);
            case SHR, REM -> nonNegative(i.operand(0), depth + 1);
            case DIV -> nonNegative(i.operand(0), depth + 1) && nonNegative(i.operand(1), depth + 1);
            default -> false;
        };
    }

    /** The constant {@code v} (which fits the type) of integer type {@code t}. */
    private static Const integer(Type t, long v) {
        return t == Type.I32 ? Const.i32((int) v) : Const.i64(v);
    }

    /** k when {@code v} is the constant 2^k (k ≥ 0), else −1. */
    private static int powerOfTwo(Value v) {
        if (!(v instanceof Const c)) {
            return -1;
        }
        long d = c.asLong(); // an I32 constant's bits are its value sign-extended
        return c.type().isInteger() && d > 0 && Long.bitCount(d) == 1 ? Long.numberOfTrailingZeros(d) : -1;
    }
}
