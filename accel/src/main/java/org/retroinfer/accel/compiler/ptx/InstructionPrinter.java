package org.retroinfer.accel.compiler.ptx;

import org.retroinfer.accel.compiler.ir.AtomicOp;
import org.retroinfer.accel.compiler.ir.Cond;
import org.retroinfer.accel.compiler.ir.Const;
import org.retroinfer.accel.compiler.ir.Instr;
import org.retroinfer.accel.compiler.ir.MemType;
import org.retroinfer.accel.compiler.ir.Op;
import org.retroinfer.accel.compiler.ir.SharedArray;
import org.retroinfer.accel.compiler.ir.Space;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.compiler.ir.Value;
import org.retroinfer.accel.compiler.ir.WarpVote;
import org.retroinfer.accel.kernel.ShuffleMode;

/**
 * Selects the PTX for each IR instruction. Java semantics by default: {@code .rn} on float add, sub and
 * mul (which stops ptxas from contracting them into fma), correctly rounded division and square root,
 * {@code max.NaN}/{@code min.NaN} for Math.max/min, {@code cvt.rzi} (saturating, with NaN to 0 made
 * explicit where PTX differs, see {@link Conversions}) for float-to-int, and a sign-bit mask for
 * Math.abs(float). Fast math drops the rounding qualifiers and uses the approximate forms.
 */
final class InstructionPrinter {
    private final PtxEmitter e;
    private final boolean fast;

    InstructionPrinter(PtxEmitter e, boolean fast) {
        this.e = e;
        this.fast = fast;
    }

    void print(Instr i) {
        switch (i.op()) {
            case ADD, SUB, MUL -> arithmetic(i);
            case DIV -> divide(i);
            case REM -> binary(i, "rem." + intType(i.type()));
            case AND -> binary(i, "and." + bitType(i.type()));
            case OR -> binary(i, "or." + bitType(i.type()));
            case XOR -> binary(i, "xor." + bitType(i.type()));
            case SHL -> binary(i, "shl." + bitType(i.type()));
            case SHR -> binary(i, "shr." + intType(i.type()));
            case USHR -> binary(i, "shr." + (i.type() == Type.I32 ? "u32" : "u64"));
            case NEG -> unary(i, "neg." + numType(i.type()));
            case ABS -> abs(i);
            case MIN, MAX -> minMax(i);
            case FMA -> e.line("fma.rn." + numType(i.type()) + " \t" + dst(i) + ", " + e.reg(i.operand(0)) + ", "
                    + e.operand(i.operand(1)) + ", " + e.operand(i.operand(2)));
            case DP4A -> e.line("dp4a.s32.s32 \t" + dst(i) + ", " + e.reg(i.operand(0)) + ", " + e.reg(i.operand(1)) + ", "
                    + e.reg(i.operand(2)));
            case SQRT -> unary(i, i.type() == Type.F64 ? "sqrt.rn.f64" : fast ? "sqrt.approx.ftz.f32" : "sqrt.rn.f32");
            case RSQRT -> unary(i, fast ? "rsqrt.approx.ftz.f32" : "rsqrt.approx.f32");
            case EXP -> PtxMath.exp(e, dst(i), e.reg(i.operand(0)), fast);
            case LOG -> PtxMath.log(e, dst(i), e.reg(i.operand(0)), fast);
            case POPC -> unary(i, "popc." + bitType(i.operand(0).type()));
            case CLZ -> unary(i, "clz." + bitType(i.operand(0).type()));
            case CONVERT -> Conversions.print(e, i, dst(i), e.reg(i.operand(0)));
            case CMP -> compare(i);
            case CMP3 -> compare3(i);
            case IS_NAN -> e.line("setp.nan." + numType(i.operand(0).type()) + " \t" + dst(i) + ", " + e.reg(i.operand(0))
                    + ", " + e.reg(i.operand(1)));
            case SELECT -> e.line("selp." + selType(i.type()) + " \t" + dst(i) + ", " + e.operand(i.operand(1)) + ", "
                    + e.operand(i.operand(2)) + ", " + e.reg(i.operand(0)));
            case SPECIAL -> e.line("mov.u32 \t" + dst(i) + ", " + i.attribute(String.class));
            case ELEMENT_ADDR -> elementAddress(i);
            case LOAD -> {
                MemType t = i.attribute(MemType.class);
                e.line("ld" + space(i.operand(0)) + "." + t.loadSuffix() + " \t" + dst(i) + ", [" + e.reg(i.operand(0)) + "]");
            }
            case STORE -> {
                MemType t = i.attribute(MemType.class);
                e.line("st" + space(i.operand(0)) + "." + t.storeSuffix() + " \t[" + e.reg(i.operand(0)) + "], "
                        + e.reg(i.operand(1)));
            }
            case LOAD_V4 -> {
                String[] r = e.registers().vectorOf(i);
                e.line("ld" + space(i.operand(0)) + ".v4." + vectorType(i) + " \t{" + String.join(", ", r) + "}, ["
                        + e.reg(i.operand(0)) + "]");
            }
            case EXTRACT -> {
                // its register is a lane of the 16-byte load, assigned before emission
            }
            case STORE_V4 -> e.line("st" + space(i.operand(0)) + ".v4." + vectorType(i) + " \t[" + e.reg(i.operand(0))
                    + "], {" + e.reg(i.operand(1)) + ", " + e.reg(i.operand(2)) + ", " + e.reg(i.operand(3)) + ", "
                    + e.reg(i.operand(4)) + "}");
            case ATOMIC -> atomic(i);
            case BARRIER -> e.line("bar.sync \t0");
            case SHUFFLE -> shuffle(i);
            case WARP_VOTE -> vote(i);
            case SHARED_ADDR -> e.line("mov.u64 \t" + dst(i) + ", " + i.attribute(SharedArray.class).symbol());
            case PACK_BF16X2 -> e.line("cvt.rn.bf16x2.f32 \t" + dst(i) + ", " + e.reg(i.operand(1)) + ", " + e.reg(i.operand(0)));
            case MMA_BF16 -> mma(i);
            case TO_GENERIC -> e.line("cvta." + i.attribute(Space.class).ptxName() + ".u64 \t" + dst(i) + ", "
                    + e.reg(i.operand(0)));
        }
    }

    private String dst(Instr i) {
        return e.registers().of(i);
    }

    private void unary(Instr i, String opcode) {
        e.line(opcode + " \t" + dst(i) + ", " + e.reg(i.operand(0)));
    }

    private void binary(Instr i, String opcode) {
        e.line(opcode + " \t" + dst(i) + ", " + e.reg(i.operand(0)) + ", " + e.operand(i.operand(1)));
    }

    private void arithmetic(Instr i) {
        String base = i.op().name().toLowerCase();
        if (i.type().isFloat()) {
            // .rn pins each operation's rounding: ptxas may not fuse a.rn * b.rn + c into an fma
            binary(i, base + (fast ? "." : ".rn.") + numType(i.type()));
        } else {
            binary(i, (i.op() == Op.MUL ? "mul.lo." : base + ".") + intType(i.type()));
        }
    }

    /**
     * Math.abs. Java defines the float one as clearing the sign bit, NaN payload included, while PTX says
     * {@code abs.f32} of a NaN "yields unspecified NaN" (abs.f64 passes it through), so strict mode clears
     * the bit itself.
     */
    private void abs(Instr i) {
        if (i.type() != Type.F32 || fast) {
            unary(i, "abs." + numType(i.type()));
            return;
        }
        String bits = e.temp(Registers.RegClass.B32);
        String cleared = e.temp(Registers.RegClass.B32);
        e.line("mov.b32 \t" + bits + ", " + e.reg(i.operand(0)));
        e.line("and.b32 \t" + cleared + ", " + bits + ", 2147483647");
        e.line("mov.b32 \t" + dst(i) + ", " + cleared);
    }

    private void divide(Instr i) {
        switch (i.type()) {
            case F32 -> binary(i, fast ? "div.full.f32" : "div.rn.f32");
            case F64 -> binary(i, "div.rn.f64");
            default -> binary(i, "div." + intType(i.type()));
        }
    }

    /** Java's Math.min/max: NaN if either is NaN, and -0.0 below +0.0. */
    private void minMax(Instr i) {
        String op = i.op() == Op.MIN ? "min" : "max";
        switch (i.type()) {
            case F32 -> binary(i, op + ".NaN.f32");
            case F64 -> {
                String t = e.temp(Registers.RegClass.F64);
                String p = e.temp(Registers.RegClass.PRED);
                String a = e.reg(i.operand(0));
                String b = e.reg(i.operand(1));
                e.line(op + ".f64 \t" + t + ", " + a + ", " + b);
                e.line("setp.nan.f64 \t" + p + ", " + a + ", " + b);
                e.line("selp.f64 \t" + dst(i) + ", 0d7FF8000000000000, " + t + ", " + p);
            }
            default -> binary(i, op + "." + intType(i.type()));
        }
    }

    private void compare(Instr i) {
        Cond c = i.attribute(Cond.class);
        Value a = i.operand(0);
        Value b = i.operand(1);
        Cond.Kind kind = c.kind();
        if (a instanceof Const && !(b instanceof Const)) {
            Value t = a;
            a = b;
            b = t;
            kind = kind.swapped();
        }
        String cc = kind.ptx() + (c.unordered() && a.type().isFloat() ? "u" : "");
        e.line("setp." + cc + "." + numType(a.type()) + " \t" + dst(i) + ", " + e.reg(a) + ", " + e.operand(b));
    }

    /** lcmp/fcmpl/fcmpg as a value: 1, -1 or 0, and the NaN result for unordered floats. */
    private void compare3(Instr i) {
        Value a = i.operand(0);
        String t = numType(a.type());
        String ra = e.reg(a);
        String rb = e.reg(i.operand(1));
        String gt = e.temp(Registers.RegClass.PRED);
        String lt = e.temp(Registers.RegClass.PRED);
        String one = e.temp(Registers.RegClass.B32);
        e.line("setp.gt." + t + " \t" + gt + ", " + ra + ", " + rb);
        e.line("setp.lt." + t + " \t" + lt + ", " + ra + ", " + rb);
        e.line("selp.s32 \t" + one + ", 1, 0, " + gt);
        if (!a.type().isFloat()) {
            e.line("selp.s32 \t" + dst(i) + ", -1, " + one + ", " + lt);
            return;
        }
        String ordered = e.temp(Registers.RegClass.B32);
        String nan = e.temp(Registers.RegClass.PRED);
        e.line("selp.s32 \t" + ordered + ", -1, " + one + ", " + lt);
        e.line("setp.nan." + t + " \t" + nan + ", " + ra + ", " + rb);
        e.line("selp.s32 \t" + dst(i) + ", " + i.attribute(Integer.class) + ", " + ordered + ", " + nan);
    }

    private void elementAddress(Instr i) {
        int size = i.attribute(Integer.class);
        String base = e.reg(i.operand(0));
        Value index = i.operand(1);
        if (index instanceof Const c) {
            long offset = (index.type() == Type.I32 ? (long) c.asInt() : c.asLong()) * size;
            e.line("add.s64 \t" + dst(i) + ", " + base + ", " + offset);
            return;
        }
        String scaled = e.temp(Registers.RegClass.B64);
        if (index.type() == Type.I32) {
            e.line("mul.wide.s32 \t" + scaled + ", " + e.reg(index) + ", " + size);
        } else {
            e.line("mul.lo.s64 \t" + scaled + ", " + e.reg(index) + ", " + size);
        }
        e.line("add.s64 \t" + dst(i) + ", " + base + ", " + scaled);
    }

    private void atomic(Instr i) {
        AtomicOp a = i.attribute(AtomicOp.class);
        String type = a.type() == MemType.F32 ? "f32" : "s32";
        String where = space(i.operand(0));
        boolean used = !e.isUnused(i);
        if (used) {
            e.line("atom" + where + "." + a.operation() + "." + type + " \t" + dst(i) + ", [" + e.reg(i.operand(0)) + "], "
                    + e.reg(i.operand(1)));
        } else {
            e.line("red" + where + "." + a.operation() + "." + type + " \t[" + e.reg(i.operand(0)) + "], "
                    + e.reg(i.operand(1)));
        }
    }

    /** {@code mma.sync m16n8k16} on bfloat16 pairs: D (the four registers its {@code EXTRACT}s alias) = A · B + C. */
    private void mma(Instr i) {
        String[] d = e.registers().vectorOf(i);
        String[] r = new String[10];
        for (int k = 0; k < 10; k++) {
            r[k] = e.reg(i.operand(k));
        }
        e.line("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 \t{" + String.join(", ", d) + "}, {" + r[0] + ", " + r[1]
                + ", " + r[2] + ", " + r[3] + "}, {" + r[4] + ", " + r[5] + "}, {" + r[6] + ", " + r[7] + ", " + r[8] + ", " + r[9] + "}");
    }

    /** {@code shfl.sync} over the full warp; clamp 31 (0 for up) keeps out-of-range lanes' own values, as Java's twin does. */
    /** {@code vote.sync.ballot} of a flag (nonzero), or {@code match.any.sync} of a value, over the full warp. */
    private void vote(Instr i) {
        if (i.attribute(WarpVote.class) == WarpVote.BALLOT) {
            String p = e.temp(Registers.RegClass.PRED);
            e.line("setp.ne.s32 \t" + p + ", " + e.reg(i.operand(0)) + ", 0");
            e.line("vote.sync.ballot.b32 \t" + dst(i) + ", " + p + ", -1");
        } else {
            e.line("match.any.sync.b32 \t" + dst(i) + ", " + e.reg(i.operand(0)) + ", -1");
        }
    }

    private void shuffle(Instr i) {
        ShuffleMode mode = i.attribute(ShuffleMode.class);
        String m = switch (mode) {
            case DOWN -> "down";
            case UP -> "up";
            case XOR -> "bfly";
            case IDX -> "idx";
        };
        String clamp = mode == ShuffleMode.UP ? "0" : "31";
        e.line("shfl.sync." + m + ".b32 \t" + dst(i) + ", " + e.reg(i.operand(0)) + ", " + e.operand(i.operand(1)) + ", "
                + clamp + ", -1");
    }

    private static String space(Value address) {
        Space s = address.space();
        if (s == null) {
            throw new IllegalStateException("pointer without an inferred state space: " + address);
        }
        return s.qualifier();
    }

    private static String vectorType(Instr i) {
        return i.attribute(MemType.class) == MemType.F32 ? "f32" : "b32";
    }

    static String numType(Type t) {
        return switch (t) {
            case I32 -> "s32";
            case I64 -> "s64";
            case F32 -> "f32";
            case F64 -> "f64";
            default -> throw new IllegalArgumentException("no numeric type for " + t);
        };
    }

    private static String intType(Type t) {
        return t == Type.I64 ? "s64" : "s32";
    }

    private static String bitType(Type t) {
        return t == Type.I64 ? "b64" : "b32";
    }

    private static String selType(Type t) {
        return switch (t) {
            case I32 -> "b32";
            case I64, PTR -> "b64";
            case F32 -> "f32";
            case F64 -> "f64";
            default -> throw new IllegalArgumentException("no selp type for " + t);
        };
    }
}
