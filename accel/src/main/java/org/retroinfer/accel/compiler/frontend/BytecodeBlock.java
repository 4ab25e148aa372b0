package org.retroinfer.accel.compiler.frontend;

import java.lang.classfile.attribute.StackMapFrameInfo;
import java.util.ArrayList;
import java.util.List;

/**
 * A basic block of bytecode: its instructions, the blocks it can go to, and the StackMapTable frame at
 * its start when it has one (every branch target does; the frame's types seed the block's phis).
 */
final class BytecodeBlock {
    private final int startBci;
    private final List<BytecodeInsn> insns = new ArrayList<>();
    private final List<BytecodeBlock> successors = new ArrayList<>();
    private final List<BytecodeBlock> predecessors = new ArrayList<>();
    private StackMapFrameInfo frame;

    BytecodeBlock(int startBci) {
        this.startBci = startBci;
    }

    int startBci() {
        return startBci;
    }

    List<BytecodeInsn> insns() {
        return insns;
    }

    List<BytecodeBlock> successors() {
        return successors;
    }

    List<BytecodeBlock> predecessors() {
        return predecessors;
    }

    StackMapFrameInfo frame() {
        return frame;
    }

    void setFrame(StackMapFrameInfo frame) {
        this.frame = frame;
    }

    BytecodeInsn last() {
        return insns.getLast();
    }

    /** Whether a later block jumps back here: javac's loops are reducible, so this marks loop headers. */
    boolean isLoopHeader() {
        return predecessors.stream().anyMatch(p -> p.startBci >= startBci);
    }

    @Override
    public String toString() {
        return "bci " + startBci;
    }
}
