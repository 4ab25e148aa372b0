package org.retroinfer.accel.compiler;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the PTX of a kernel without branches (a scalar parameter in, one value stored to {@code out[0]})
 * on the CPU, giving each instruction the meaning the PTX ISA gives it rather than Java's. The IR
 * interpreter cannot catch a wrong instruction choice, because it runs the IR with Java's rules; this
 * model can, for the instructions it knows. It refuses any other instruction, and any rounding mode it
 * does not model, so a test never passes by ignoring something.
 *
 * <p>{@code cvt} follows the ISA's "Integer Notes": float-to-integer results are clamped to the destination
 * range, and NaN gives 0 only when the source is not {@code .f64} and the destination is not 64-bit;
 * otherwise {@code 1 << (width - 1)} (MININT for signed types).
 */
final class StraightLinePtx {
    /** The value {@code out} stands for in the registers: the model checks that the store goes to it. */
    private static final long OUT_ADDRESS = 0x1000;

    private final Map<String, Long> registers = new HashMap<>();
    private final String entry;
    private final long argument;
    private Long stored;

    private StraightLinePtx(String entry, long argument) {
        this.entry = entry;
        this.argument = argument;
    }

    /**
     * The bits the kernel stores to {@code out[0]} when its scalar parameter holds {@code argumentBits}
     * (a float's bits in the low 32); values narrower than 64 bits come back in the low bits.
     */
    static long run(String ptx, long argumentBits) {
        int open = ptx.indexOf(".visible .entry ");
        String entry = ptx.substring(open + ".visible .entry ".length(), ptx.indexOf('(', open));
        String body = ptx.substring(ptx.indexOf("{", open) + 1, ptx.lastIndexOf('}'));
        StraightLinePtx model = new StraightLinePtx(entry, argumentBits);
        for (String raw : body.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith(".reg") || line.startsWith("//") || line.endsWith(":")) {
                continue;
            }
            if (!model.execute(line.substring(0, line.length() - 1).strip())) {
                break;
            }
        }
        if (model.stored == null) {
            throw new IllegalStateException(entry + " stored nothing to out[0]:\n" + ptx);
        }
        return model.stored;
    }

    /** Executes one instruction; false at {@code ret}. */
    private boolean execute(String instruction) {
        int space = instruction.indexOf('\t') >= 0 ? instruction.indexOf('\t') : instruction.indexOf(' ');
        String opcode = space < 0 ? instruction : instruction.substring(0, space).strip();
        List<String> ops = space < 0 ? List.of()
                : List.of(instruction.substring(space).split(",")).stream().map(String::strip).toList();
        String[] parts = opcode.split("\\.");
        String type = parts[parts.length - 1];
        switch (parts[0]) {
            case "ret" -> {
                return false;
            }
            case "ld" -> {
                require(opcode.startsWith("ld.param."), instruction);
                String name = ops.get(1).substring(1, ops.get(1).length() - 1);
                int index = Integer.parseInt(name.substring((entry + "_param_").length()));
                set(ops.get(0), index == 0 ? argument : OUT_ADDRESS, type);
            }
            case "cvta" -> {
                require(opcode.equals("cvta.to.global.u64"), instruction);
                set(ops.get(0), value(ops.get(1)), type);
            }
            case "mov" -> set(ops.get(0), value(ops.get(1)), type);
            case "add" -> {
                require(type.equals("s64"), instruction);
                set(ops.get(0), value(ops.get(1)) + value(ops.get(2)), type);
            }
            case "and" -> set(ops.get(0), value(ops.get(1)) & value(ops.get(2)), type);
            case "or" -> set(ops.get(0), value(ops.get(1)) | value(ops.get(2)), type);
            case "abs" -> {
                require(opcode.equals("abs.f32"), instruction);
                float x = Float.intBitsToFloat((int) value(ops.get(1)));
                // "For abs.f32, NaN input yields unspecified NaN": the model picks the canonical GPU NaN
                set(ops.get(0), Float.isNaN(x) ? 0x7fffffffL : value(ops.get(1)) & 0x7fffffffL, type);
            }
            case "setp" -> {
                require(parts.length == 3 && (parts[1].equals("nan") || parts[1].equals("num")), instruction);
                boolean nan = isNaN(value(ops.get(1)), type) || isNaN(value(ops.get(2)), type);
                registers.put(ops.get(0), (parts[1].equals("nan") == nan) ? 1L : 0L);
            }
            case "selp" -> set(ops.get(0), value(ops.get(3)) != 0 ? value(ops.get(1)) : value(ops.get(2)), type);
            case "cvt" -> set(ops.get(0), convert(List.of(parts).subList(1, parts.length - 2), parts[parts.length - 2],
                    parts[parts.length - 1], value(ops.get(1))), parts[parts.length - 2]);
            case "st" -> {
                require(opcode.startsWith("st.global."), instruction);
                String address = ops.get(0).substring(1, ops.get(0).length() - 1);
                require(value(address) == OUT_ADDRESS, instruction + " (not out[0])");
                stored = value(ops.get(1)) & mask(width(type));
            }
            default -> throw new IllegalArgumentException("the PTX model does not know '" + instruction + "'; extend it");
        }
        return true;
    }

    private static void require(boolean ok, String instruction) {
        if (!ok) {
            throw new IllegalArgumentException("the PTX model does not know '" + instruction + "'; extend it");
        }
    }

    private void set(String register, long bits, String type) {
        registers.put(register, bits & mask(width(type)));
    }

    private long value(String operand) {
        if (operand.startsWith("%")) {
            Long v = registers.get(operand);
            if (v == null) {
                throw new IllegalStateException(operand + " is read before it is written");
            }
            return v;
        }
        if (operand.startsWith("0f")) {
            return Long.parseLong(operand.substring(2), 16);
        }
        if (operand.startsWith("0d")) {
            return Long.parseUnsignedLong(operand.substring(2), 16);
        }
        return Long.decode(operand);
    }

    private static int width(String type) {
        return switch (type) {
            case "pred" -> 1;
            case "b8", "s8", "u8" -> 8;
            case "b16", "s16", "u16", "f16", "bf16" -> 16;
            case "b32", "s32", "u32", "f32" -> 32;
            case "b64", "s64", "u64", "f64" -> 64;
            default -> throw new IllegalArgumentException("unknown PTX type ." + type);
        };
    }

    private static long mask(int width) {
        return width == 64 ? -1L : (1L << width) - 1;
    }

    private static boolean isNaN(long bits, String type) {
        return type.equals("f32") ? Float.isNaN(Float.intBitsToFloat((int) bits)) : Double.isNaN(Double.longBitsToDouble(bits));
    }

    /** {@code cvt} with the modifiers {@code modifiers} from {@code atype} to {@code dtype}. */
    private static long convert(List<String> modifiers, String dtype, String atype, long bits) {
        List<String> rounding = modifiers.stream().filter(m -> !m.equals("ftz")).toList();
        boolean fromFloat = atype.startsWith("f");
        boolean toFloat = dtype.startsWith("f");
        if (fromFloat) {
            double v = atype.equals("f32") ? Float.intBitsToFloat((int) bits) : Double.longBitsToDouble(bits);
            if (modifiers.contains("ftz") && atype.equals("f32") && v != 0 && Math.abs(v) < Float.MIN_NORMAL) {
                v = Math.copySign(0.0, v);
            }
            if (toFloat) {
                if (dtype.equals("f64")) {
                    if (!rounding.isEmpty() || !atype.equals("f32")) {
                        throw new IllegalArgumentException("rounding is illegal from .f32 to .f64: " + modifiers);
                    }
                    return Double.doubleToRawLongBits(v);
                }
                requireRounding(rounding, "rn");
                return Float.floatToRawIntBits((float) v) & 0xffffffffL;
            }
            requireRounding(rounding, "rzi");
            return truncate(v, dtype, atype);
        }
        long a = extend(bits, atype);
        if (toFloat) {
            requireRounding(rounding, "rn");
            if (atype.equals("u64")) {
                throw new IllegalArgumentException("the model does not convert .u64 to float");
            }
            return dtype.equals("f32") ? Float.floatToRawIntBits((float) a) & 0xffffffffL : Double.doubleToRawLongBits((double) a);
        }
        if (!rounding.isEmpty()) {
            throw new IllegalArgumentException("rounding is illegal between integer types: " + modifiers);
        }
        return extend(a, dtype);
    }

    private static void requireRounding(List<String> rounding, String modelled) {
        if (!rounding.equals(List.of(modelled))) {
            throw new IllegalArgumentException("the PTX model handles ." + modelled + " here, not " + rounding);
        }
    }

    /** The low bits of {@code bits} for {@code type}, sign- or zero-extended to 64. */
    private static long extend(long bits, String type) {
        int w = width(type);
        if (w == 64) {
            return bits;
        }
        return type.startsWith("s") ? (bits << (64 - w)) >> (64 - w) : bits & mask(w);
    }

    /** Float to integer, rounding toward zero, clamped, with the ISA's NaN rule. */
    private static long truncate(double v, String dtype, String atype) {
        int w = width(dtype);
        boolean signed = dtype.startsWith("s");
        BigInteger min = signed ? BigInteger.ONE.shiftLeft(w - 1).negate() : BigInteger.ZERO;
        BigInteger max = (signed ? BigInteger.ONE.shiftLeft(w - 1) : BigInteger.ONE.shiftLeft(w)).subtract(BigInteger.ONE);
        if (Double.isNaN(v)) {
            boolean zero = !atype.equals("f64") && w != 64;
            return zero ? 0 : (1L << (w - 1)) & mask(w);
        }
        BigInteger t;
        if (Double.isInfinite(v)) {
            t = v > 0 ? max : min;
        } else {
            t = new BigDecimal(v).toBigInteger();
        }
        t = t.max(min).min(max);
        return t.longValue() & mask(w);
    }
}
