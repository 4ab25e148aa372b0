package org.retroinfer.accel.compiler.opt;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import org.retroinfer.accel.compiler.ir.Block;
import org.retroinfer.accel.compiler.ir.Function;
import org.retroinfer.accel.compiler.ir.Instr;
import org.retroinfer.accel.compiler.ir.Phi;
import org.retroinfer.accel.compiler.ir.Terminator;
import org.retroinfer.accel.compiler.ir.Value;

/** Removes instructions and phis whose results nothing needs (mark from side effects and branches, sweep the rest). */
public final class DeadCode {
    private DeadCode() {}

    public static void run(Function f) {
        Set<Value> live = new HashSet<>();
        Deque<Value> work = new ArrayDeque<>();
        for (Block b : f.blocks()) {
            for (Instr i : b.instrs()) {
                if (i.op().hasSideEffects()) {
                    work.add(i);
                }
            }
            if (b.terminator() instanceof Terminator.Branch br) {
                work.add(br.condition());
            }
        }
        while (!work.isEmpty()) {
            Value v = work.removeLast();
            if (!live.add(v)) {
                continue;
            }
            if (v instanceof Instr i) {
                work.addAll(i.operands());
            } else if (v instanceof Phi p) {
                for (Phi.Incoming in : p.incoming()) {
                    work.add(in.value());
                }
            }
        }
        for (Block b : f.blocks()) {
            b.phis().removeIf(p -> !live.contains(p));
            b.instrs().removeIf(i -> !live.contains(i));
        }
    }
}
