package org.retroinfer.accel.compiler.opt;

import java.util.Map;
import org.retroinfer.accel.compiler.ir.Block;
import org.retroinfer.accel.compiler.ir.Function;
import org.retroinfer.accel.compiler.ir.Instr;
import org.retroinfer.accel.compiler.ir.Phi;
import org.retroinfer.accel.compiler.ir.Terminator;
import org.retroinfer.accel.compiler.ir.Value;

/** Replaces values everywhere they are used (instruction operands, phi inputs, branch conditions). */
final class ValueRewriter {
    private ValueRewriter() {}

    static void apply(Function f, Map<Value, Value> replacements) {
        if (replacements.isEmpty()) {
            return;
        }
        for (Block b : f.blocks()) {
            for (Phi p : b.phis()) {
                p.incoming().replaceAll(in -> new Phi.Incoming(in.from(), resolve(replacements, in.value())));
            }
            for (Instr i : b.instrs()) {
                for (int k = 0; k < i.operands().size(); k++) {
                    i.setOperand(k, resolve(replacements, i.operand(k)));
                }
            }
            if (b.terminator() instanceof Terminator.Branch br) {
                Value c = resolve(replacements, br.condition());
                if (c != br.condition()) {
                    b.setTerminator(new Terminator.Branch(c, br.ifTrue(), br.ifFalse()));
                }
            }
        }
    }

    /** Follows chains of replacements (a phi replaced by a phi that was itself replaced). */
    static Value resolve(Map<Value, Value> replacements, Value v) {
        Value r = v;
        for (int guard = 0; replacements.containsKey(r); guard++) {
            if (guard > replacements.size()) {
                throw new IllegalStateException("cyclic value replacement at " + v);
            }
            r = replacements.get(r);
        }
        return r;
    }
}
