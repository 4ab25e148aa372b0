package org.retroinfer.accel.compiler.opt;

import java.util.ArrayList;
import java.util.List;
import org.retroinfer.accel.compiler.ir.Block;
import org.retroinfer.accel.compiler.ir.Function;
import org.retroinfer.accel.compiler.ir.Instr;
import org.retroinfer.accel.compiler.ir.Op;
import org.retroinfer.accel.compiler.ir.Param;
import org.retroinfer.accel.compiler.ir.Phi;
import org.retroinfer.accel.compiler.ir.Space;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.compiler.ir.Value;

/**
 * Decides which PTX state space every pointer points into. Parameters point to global memory, shared
 * arrays to shared memory, element addresses inherit their base's space; a phi that merges pointers of
 * different spaces (a local that holds a global array on one path and a shared one on another) becomes a
 * generic address, and its global or shared inputs are converted with {@code cvta} in the predecessor.
 */
public final class SpaceInference {
    private SpaceInference() {}

    public static void run(Function f) {
        for (Param p : f.params()) {
            if (p.type() == Type.PTR) {
                p.setSpace(Space.GLOBAL);
            }
        }
        boolean changed = true;
        while (changed) {
            changed = false;
            for (Block b : f.blocks()) {
                for (Phi p : b.phis()) {
                    if (p.type() == Type.PTR) {
                        Space s = null;
                        for (Phi.Incoming in : p.incoming()) {
                            s = meet(s, in.value().space());
                        }
                        changed |= update(p, s);
                    }
                }
                for (Instr i : b.instrs()) {
                    Space s = switch (i.op()) {
                        case SHARED_ADDR -> Space.SHARED;
                        case TO_GENERIC -> Space.GENERIC;
                        case ELEMENT_ADDR -> i.operand(0).space();
                        default -> null;
                    };
                    if (s != null) {
                        changed |= update(i, s);
                    }
                }
            }
        }
        insertConversions(f);
    }

    private static Space meet(Space a, Space b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return a == b ? a : Space.GENERIC;
    }

    private static boolean update(Value v, Space s) {
        if (s == null || s == v.space()) {
            return false;
        }
        v.setSpace(s);
        return true;
    }

    private static void insertConversions(Function f) {
        for (Block b : f.blocks()) {
            for (Phi p : b.phis()) {
                if (p.type() != Type.PTR || p.space() != Space.GENERIC) {
                    continue;
                }
                List<Phi.Incoming> converted = new ArrayList<>();
                for (Phi.Incoming in : p.incoming()) {
                    Value v = in.value();
                    if (v.space() != Space.GENERIC) {
                        Instr cvt = in.from().appendBeforeTerminator(Op.TO_GENERIC, Type.PTR, v.space(), null, v);
                        cvt.setSpace(Space.GENERIC);
                        v = cvt;
                    }
                    converted.add(new Phi.Incoming(in.from(), v));
                }
                p.incoming().clear();
                p.incoming().addAll(converted);
            }
        }
    }
}
