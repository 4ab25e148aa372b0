package org.retroinfer.accel.compiler.ptx;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.compiler.ir.Value;

/**
 * Virtual register names: one per SSA value, numbered per register class. ptxas allocates the physical
 * registers, so generous naming costs nothing.
 */
final class Registers {
    /** PTX register classes: predicate, 16-bit (half conversions), 32/64-bit integer, float and double. */
    enum RegClass {
        PRED(".pred", "%p"), B16(".b16", "%h"), B32(".b32", "%r"), B64(".b64", "%rd"), F32(".f32", "%f"), F64(".f64", "%fd");

        final String declaration;
        final String prefix;

        RegClass(String declaration, String prefix) {
            this.declaration = declaration;
            this.prefix = prefix;
        }
    }

    private final Map<RegClass, Integer> counts = new EnumMap<>(RegClass.class);
    private final Map<Value, String> names = new HashMap<>();
    private final Map<Value, String[]> vectors = new HashMap<>();

    static RegClass classOf(Type t) {
        return switch (t) {
            case PRED -> RegClass.PRED;
            case I32 -> RegClass.B32;
            case I64, PTR -> RegClass.B64;
            case F32 -> RegClass.F32;
            case F64 -> RegClass.F64;
        };
    }

    String fresh(RegClass c) {
        int n = counts.merge(c, 1, Integer::sum);
        return c.prefix + n;
    }

    String fresh(Type t) {
        return fresh(classOf(t));
    }

    /** The register holding {@code v} (assigned on first use). */
    String of(Value v) {
        return names.computeIfAbsent(v, k -> fresh(k.type()));
    }

    /** The four registers of a 16-byte load. */
    String[] vectorOf(Value v) {
        return vectors.computeIfAbsent(v, k -> new String[] {fresh(k.type()), fresh(k.type()), fresh(k.type()), fresh(k.type())});
    }

    void alias(Value v, String register) {
        names.put(v, register);
    }

    /** The {@code .reg} declarations for every register handed out. */
    String declarations() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<RegClass, Integer> e : counts.entrySet()) {
            sb.append("\t.reg ").append(e.getKey().declaration).append(" \t").append(e.getKey().prefix).append('<')
                    .append(e.getValue() + 1).append(">;\n");
        }
        return sb.toString();
    }
}
