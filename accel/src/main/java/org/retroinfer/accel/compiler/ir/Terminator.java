package org.retroinfer.accel.compiler.ir;

import java.util.List;

/** How a block ends. */
public sealed interface Terminator {
    List<Block> successors();

    /** The same terminator with every edge to {@code from} going to {@code to}. */
    Terminator retarget(Block from, Block to);

    record Jump(Block target) implements Terminator {
        @Override
        public List<Block> successors() {
            return List.of(target);
        }

        @Override
        public Terminator retarget(Block from, Block to) {
            return target == from ? new Jump(to) : this;
        }
    }

    /** Goes to {@code ifTrue} when the predicate {@code condition} holds, else to {@code ifFalse}. */
    record Branch(Value condition, Block ifTrue, Block ifFalse) implements Terminator {
        @Override
        public List<Block> successors() {
            return List.of(ifTrue, ifFalse);
        }

        @Override
        public Terminator retarget(Block from, Block to) {
            return new Branch(condition, ifTrue == from ? to : ifTrue, ifFalse == from ? to : ifFalse);
        }
    }

    record Return() implements Terminator {
        @Override
        public List<Block> successors() {
            return List.of();
        }

        @Override
        public Terminator retarget(Block from, Block to) {
            return this;
        }
    }
}
