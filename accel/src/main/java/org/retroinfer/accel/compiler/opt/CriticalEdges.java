package org.retroinfer.accel.compiler.opt;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.retroinfer.accel.compiler.ir.Block;
import org.retroinfer.accel.compiler.ir.Function;
import org.retroinfer.accel.compiler.ir.Phi;
import org.retroinfer.accel.compiler.ir.Terminator;

/**
 * Splits every edge from a block with several successors into a block with phis, so that the copies
 * that implement phis can sit at the end of the predecessor without affecting its other successor.
 */
public final class CriticalEdges {
    private CriticalEdges() {}

    public static void run(Function f) {
        Map<Block, List<Block>> preds = f.predecessors();
        for (Block b : new ArrayList<>(f.blocks())) {
            if (!(b.terminator() instanceof Terminator.Branch br)) {
                continue;
            }
            for (Block target : List.of(br.ifTrue(), br.ifFalse())) {
                if (target.phis().isEmpty() || preds.get(target).size() < 2) {
                    continue;
                }
                Block split = f.newBlock();
                split.setTerminator(new Terminator.Jump(target));
                b.setTerminator(b.terminator().retarget(target, split));
                for (Phi p : target.phis()) {
                    p.incoming().replaceAll(in -> in.from() == b ? new Phi.Incoming(split, in.value()) : in);
                }
            }
        }
    }
}
