package org.retroinfer.accel.compiler.opt;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.retroinfer.accel.compiler.ir.Block;
import org.retroinfer.accel.compiler.ir.Function;

/**
 * Lays the blocks out in reverse postorder (the false branch is visited last, so it follows its block and a loop body follows its header and an
 * inlined helper sits where it is called), which turns most jumps into fall-throughs.
 */
public final class BlockOrder {
    private BlockOrder() {}

    public static void run(Function f) {
        List<Block> post = new ArrayList<>();
        Set<Block> seen = new HashSet<>();
        Deque<Block> stack = new ArrayDeque<>();
        Deque<Integer> next = new ArrayDeque<>();
        stack.push(f.entry());
        next.push(0);
        seen.add(f.entry());
        while (!stack.isEmpty()) {
            Block b = stack.peek();
            List<Block> succ = b.successors();
            int i = next.pop();
            if (i < succ.size()) {
                next.push(i + 1);
                Block s = succ.get(i);
                if (seen.add(s)) {
                    stack.push(s);
                    next.push(0);
                }
            } else {
                stack.pop();
                post.add(b);
            }
        }
        f.blocks().clear();
        f.blocks().addAll(post.reversed());
    }
}
