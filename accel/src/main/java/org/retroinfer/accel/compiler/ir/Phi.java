package org.retroinfer.accel.compiler.ir;

import java.util.ArrayList;
import java.util.List;

/** A phi: the value that arrives from each predecessor of its block. */
public final class Phi extends Value {
    /** One incoming value and the block it comes from. */
    public record Incoming(Block from, Value value) {}

    private final int id;
    private final Block block;
    private final List<Incoming> incoming = new ArrayList<>();

    Phi(int id, Type type, Block block) {
        super(type);
        this.id = id;
        this.block = block;
    }

    public int id() {
        return id;
    }

    public Block block() {
        return block;
    }

    public List<Incoming> incoming() {
        return incoming;
    }

    public void addIncoming(Block from, Value value) {
        incoming.add(new Incoming(from, value));
    }

    @Override
    public String toString() {
        return "%" + id + " = phi " + incoming.stream().map(i -> "b" + i.from().id() + ":" + i.value()).toList();
    }
}
