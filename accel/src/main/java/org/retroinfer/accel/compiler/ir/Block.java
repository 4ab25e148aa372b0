package org.retroinfer.accel.compiler.ir;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A basic block: phis, then instructions, then one {@link Terminator}. */
public final class Block {
    private final Function function;
    private final int id;
    private final List<Phi> phis = new ArrayList<>();
    private final List<Instr> instrs = new ArrayList<>();
    private Terminator terminator;
    private boolean noUnroll;

    Block(Function function, int id) {
        this.function = function;
        this.id = id;
    }

    public int id() {
        return id;
    }

    public Function function() {
        return function;
    }

    public List<Phi> phis() {
        return phis;
    }

    public List<Instr> instrs() {
        return instrs;
    }

    public Terminator terminator() {
        return terminator;
    }

    public boolean isTerminated() {
        return terminator != null;
    }

    public void setTerminator(Terminator t) {
        this.terminator = t;
    }

    public List<Block> successors() {
        return terminator == null ? List.of() : terminator.successors();
    }

    /** Whether this block heads a loop that must not be unrolled ({@code .pragma "nounroll"}). */
    public boolean noUnroll() {
        return noUnroll;
    }

    public void setNoUnroll(boolean noUnroll) {
        this.noUnroll = noUnroll;
    }

    /** Appends an instruction; the caller must not append after the terminator. */
    public Instr append(Op op, Type type, Object attribute, SourcePosition position, Value... operands) {
        if (terminator != null) {
            throw new IllegalStateException("block b" + id + " is already terminated");
        }
        Instr i = new Instr(function.nextId(), op, type, attribute, Arrays.asList(operands), position, this);
        instrs.add(i);
        return i;
    }

    /** Inserts an instruction before the terminator (used by passes after construction). */
    public Instr appendBeforeTerminator(Op op, Type type, Object attribute, SourcePosition position, Value... operands) {
        Instr i = new Instr(function.nextId(), op, type, attribute, Arrays.asList(operands), position, this);
        instrs.add(i);
        return i;
    }

    /** Inserts an instruction just before {@code at}, an instruction of this block (used by passes). */
    public Instr insertBefore(Instr at, Op op, Type type, Object attribute, Value... operands) {
        Instr i = new Instr(function.nextId(), op, type, attribute, Arrays.asList(operands), at.position(), this);
        int index = instrs.indexOf(at);
        if (index < 0) {
            throw new IllegalArgumentException(at + " is not in block b" + id);
        }
        instrs.add(index, i);
        return i;
    }

    /** Moves {@code i} from its block to the end of this one, before the terminator (used by passes). */
    public void appendMoved(Instr i) {
        i.block().instrs.remove(i);
        instrs.add(i);
        i.moveTo(this);
    }

    public Phi addPhi(Type type) {
        Phi p = new Phi(function.nextId(), type, this);
        phis.add(p);
        return p;
    }

    @Override
    public String toString() {
        return "b" + id;
    }
}
