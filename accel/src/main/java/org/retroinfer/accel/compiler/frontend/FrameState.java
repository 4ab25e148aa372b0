package org.retroinfer.accel.compiler.frontend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The JVM locals and operand stack at one point of translation. */
final class FrameState {
    final JValue[] locals;
    final List<JValue> stack;

    FrameState(int maxLocals) {
        this(new JValue[maxLocals], new ArrayList<>());
    }

    private FrameState(JValue[] locals, List<JValue> stack) {
        this.locals = locals;
        this.stack = stack;
    }

    FrameState copy() {
        return new FrameState(Arrays.copyOf(locals, locals.length), new ArrayList<>(stack));
    }

    void push(JValue v) {
        stack.add(v);
    }

    JValue pop() {
        return stack.removeLast();
    }

    JValue peek() {
        return stack.getLast();
    }

    /** Replaces every occurrence of {@code from} (an object under construction) by {@code to}. */
    void replace(JValue from, JValue to) {
        for (int i = 0; i < locals.length; i++) {
            if (from.equals(locals[i])) {
                locals[i] = to;
            }
        }
        stack.replaceAll(v -> from.equals(v) ? to : v);
    }
}
