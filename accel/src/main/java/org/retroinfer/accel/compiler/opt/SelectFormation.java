package org.retroinfer.accel.compiler.opt;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.retroinfer.accel.compiler.ir.Block;
import org.retroinfer.accel.compiler.ir.Function;
import org.retroinfer.accel.compiler.ir.Instr;
import org.retroinfer.accel.compiler.ir.Op;
import org.retroinfer.accel.compiler.ir.Phi;
import org.retroinfer.accel.compiler.ir.Terminator;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.compiler.ir.Value;

/**
 * Turns a branch whose arms compute nothing into selects: Java's {@code c ? a : b} of values already computed reaches
 * the IR as a branch to two empty blocks (or one, and the join) whose only work is the join's phis. ptxas if-converts
 * such a branch into two predicated moves per phi; a {@code selp} is one {@code SEL}. The warp-transposed sums of the
 * decode and scoring kernels pick one of two values at every step: in {@code CentroidScoring.logitsInt8} the moves were a
 * quarter of the loop's instructions (docs/results/gpu-retro/h200/s11-call-1).
 *
 * <p>A block {@code B} ending in {@code branch c, T, F} qualifies when each arm is either the join {@code J} itself or a
 * block whose only predecessor is {@code B}, which jumps to {@code J} and holds no phis and at most
 * {@value #SPECULATED} compares and selects (an inner ternary's, so that nested ternaries fold from the inside out). The
 * arms' instructions move to {@code B} (computing them on both paths costs less than the branch), each phi of {@code J}
 * takes, from {@code B}, {@code select(c, value from the true side, value from the false side)}, and {@code B} jumps to
 * {@code J}; the emptied arms become unreachable, for {@link Simplifier} to drop. An arm's other operands are defined
 * above {@code B}, so they are available there. Phis of predicates and pointers stay branches (no {@code selp} of
 * predicates; pointer spaces are inferred through phis). Runs to a fixpoint.
 */
public final class SelectFormation {
    /** The most instructions an arm may hold: an inner ternary's compare and select. */
    private static final int SPECULATED = 2;

    private SelectFormation() {}

    public static void run(Function f) {
        boolean changed = true;
        while (changed) {
            changed = false;
            Map<Block, List<Block>> preds = f.predecessors();
            for (Block b : new ArrayList<>(f.blocks())) {
                if (b.terminator() instanceof Terminator.Branch br && formSelects(b, br, preds)) {
                    changed = true;
                    preds = f.predecessors();
                }
            }
        }
        Simplifier.run(f);
    }

    private static boolean formSelects(Block b, Terminator.Branch br, Map<Block, List<Block>> preds) {
        if (br.ifTrue() == br.ifFalse()) {
            return false;
        }
        Block join = joinOf(b, br, preds);
        if (join == null || join == b) {
            return false;
        }
        Block fromTrue = br.ifTrue() == join ? b : br.ifTrue();
        Block fromFalse = br.ifFalse() == join ? b : br.ifFalse();
        for (Phi p : join.phis()) {
            if (p.type() == Type.PRED || p.type() == Type.PTR) {
                return false;
            }
        }
        for (Block arm : List.of(br.ifTrue(), br.ifFalse())) {
            if (arm != join) {
                for (Instr i : new ArrayList<>(arm.instrs())) {
                    b.appendMoved(i);
                }
            }
        }
        for (Phi p : join.phis()) {
            Value t = incoming(p, fromTrue);
            Value e = incoming(p, fromFalse);
            Value v = Objects.equals(t, e) ? t : b.appendBeforeTerminator(Op.SELECT, p.type(), null, null, br.condition(), t, e);
            p.incoming().removeIf(in -> in.from() == fromTrue || in.from() == fromFalse);
            p.addIncoming(b, v);
        }
        b.setTerminator(new Terminator.Jump(join));
        return true;
    }

    /** The block both arms reach, or null when the branch does not have the shape of a select. */
    private static Block joinOf(Block b, Terminator.Branch br, Map<Block, List<Block>> preds) {
        Block t = br.ifTrue();
        Block e = br.ifFalse();
        Block tJoin = emptyArm(t, b, preds);
        Block eJoin = emptyArm(e, b, preds);
        if (tJoin != null && eJoin != null) {
            return tJoin == eJoin ? tJoin : null;
        }
        if (tJoin != null && tJoin == e) {
            return e;
        }
        if (eJoin != null && eJoin == t) {
            return t;
        }
        return null;
    }

    /** Where {@code arm} jumps, when it is a block entered only from {@code b} that a select can replace; else null. */
    private static Block emptyArm(Block arm, Block b, Map<Block, List<Block>> preds) {
        if (arm == b || !arm.phis().isEmpty() || arm.instrs().size() > SPECULATED
                || arm.instrs().stream().anyMatch(i -> i.op() != Op.CMP && i.op() != Op.SELECT)
                || !(arm.terminator() instanceof Terminator.Jump j) || !preds.get(arm).equals(List.of(b)) || j.target() == arm) {
            return null;
        }
        return j.target();
    }

    private static Value incoming(Phi p, Block from) {
        for (Phi.Incoming in : p.incoming()) {
            if (in.from() == from) {
                return in.value();
            }
        }
        throw new IllegalStateException("phi " + p + " has no value from b" + from.id());
    }
}
