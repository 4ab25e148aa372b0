package org.retroinfer.accel.compiler.ir;

import java.util.ArrayList;
import java.util.List;

/** An instruction: an {@link Op} on operands, producing a value of {@link #type()} (unused for stores). */
public final class Instr extends Value {
    private final int id;
    private final Op op;
    private final Object attribute;
    private final List<Value> operands;
    private final SourcePosition position;
    private Block block;

    Instr(int id, Op op, Type type, Object attribute, List<Value> operands, SourcePosition position, Block block) {
        super(type);
        this.id = id;
        this.op = op;
        this.attribute = attribute;
        this.operands = new ArrayList<>(operands);
        this.position = position;
        this.block = block;
    }

    public int id() {
        return id;
    }

    public Op op() {
        return op;
    }

    /** The op's extra data (see {@link Op}); null if it has none. */
    public Object attribute() {
        return attribute;
    }

    public <T> T attribute(Class<T> type) {
        return type.cast(attribute);
    }

    public List<Value> operands() {
        return operands;
    }

    public Value operand(int i) {
        return operands.get(i);
    }

    public void setOperand(int i, Value v) {
        operands.set(i, v);
    }

    public SourcePosition position() {
        return position;
    }

    public Block block() {
        return block;
    }

    void moveTo(Block b) {
        this.block = b;
    }

    @Override
    public String toString() {
        return "%" + id + " = " + op + (attribute == null ? "" : "[" + attribute + "]") + " " + operands;
    }
}
