package org.retroinfer.accel.compiler.opt;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.retroinfer.accel.compiler.ir.Block;
import org.retroinfer.accel.compiler.ir.Const;
import org.retroinfer.accel.compiler.ir.Function;
import org.retroinfer.accel.compiler.ir.Instr;
import org.retroinfer.accel.compiler.ir.Phi;
import org.retroinfer.accel.compiler.ir.Terminator;
import org.retroinfer.accel.compiler.ir.Value;

/**
 * Cleans the SSA the front end produces, to a fixpoint: removes trivial phis (one distinct input), folds
 * instructions whose operands became constant, turns branches on constants into jumps and drops blocks
 * that can no longer be reached.
 */
public final class Simplifier {
    private Simplifier() {}

    public static void run(Function f) {
        boolean changed = true;
        while (changed) {
            changed = removeTrivialPhis(f);
            changed |= foldConstants(f);
            changed |= foldBranches(f);
            changed |= removeUnreachable(f);
        }
    }

    private static boolean removeTrivialPhis(Function f) {
        Map<Value, Value> replace = new HashMap<>();
        boolean found = true;
        while (found) {
            found = false;
            for (Block b : f.blocks()) {
                for (Phi p : b.phis()) {
                    if (replace.containsKey(p)) {
                        continue;
                    }
                    Value only = null;
                    boolean trivial = true;
                    for (Phi.Incoming in : p.incoming()) {
                        Value v = ValueRewriter.resolve(replace, in.value());
                        if (v == p || v.equals(only)) {
                            continue;
                        }
                        if (only != null) {
                            trivial = false;
                            break;
                        }
                        only = v;
                    }
                    if (trivial && only != null) {
                        replace.put(p, only);
                        found = true;
                    }
                }
            }
        }
        for (Block b : f.blocks()) {
            b.phis().removeIf(replace::containsKey);
        }
        ValueRewriter.apply(f, replace);
        return !replace.isEmpty();
    }

    private static boolean foldConstants(Function f) {
        Map<Value, Value> replace = new HashMap<>();
        for (Block b : f.blocks()) {
            for (Iterator<Instr> it = b.instrs().iterator(); it.hasNext(); ) {
                Instr i = it.next();
                if (i.op().hasSideEffects()) {
                    continue;
                }
                List<Value> ops = new ArrayList<>();
                for (Value v : i.operands()) {
                    ops.add(ValueRewriter.resolve(replace, v));
                }
                Value folded = Folder.fold(i.op(), i.type(), i.attribute(), ops.toArray(Value[]::new));
                if (folded != null) {
                    replace.put(i, folded);
                    it.remove();
                }
            }
        }
        ValueRewriter.apply(f, replace);
        return !replace.isEmpty();
    }

    private static boolean foldBranches(Function f) {
        boolean changed = false;
        for (Block b : f.blocks()) {
            if (b.terminator() instanceof Terminator.Branch br) {
                Block keep = null;
                Block drop = null;
                if (br.condition() instanceof Const c) {
                    keep = c.asBoolean() ? br.ifTrue() : br.ifFalse();
                    drop = c.asBoolean() ? br.ifFalse() : br.ifTrue();
                } else if (br.ifTrue() == br.ifFalse()) {
                    keep = br.ifTrue();
                    drop = br.ifTrue();
                }
                if (keep != null) {
                    b.setTerminator(new Terminator.Jump(keep));
                    removeOneIncoming(drop, b);
                    changed = true;
                }
            }
        }
        return changed;
    }

    private static void removeOneIncoming(Block target, Block from) {
        for (Phi p : target.phis()) {
            for (int i = 0; i < p.incoming().size(); i++) {
                if (p.incoming().get(i).from() == from) {
                    p.incoming().remove(i);
                    break;
                }
            }
        }
    }

    private static boolean removeUnreachable(Function f) {
        Set<Block> reachable = new HashSet<>();
        List<Block> work = new ArrayList<>(List.of(f.entry()));
        while (!work.isEmpty()) {
            Block b = work.removeLast();
            if (reachable.add(b)) {
                work.addAll(b.successors());
            }
        }
        if (reachable.size() == f.blocks().size()) {
            return false;
        }
        f.blocks().removeIf(b -> !reachable.contains(b));
        for (Block b : f.blocks()) {
            for (Phi p : b.phis()) {
                p.incoming().removeIf(in -> !reachable.contains(in.from()));
            }
        }
        return true;
    }
}
