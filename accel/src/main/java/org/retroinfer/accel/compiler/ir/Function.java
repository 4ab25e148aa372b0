package org.retroinfer.accel.compiler.ir;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One kernel in SSA form: its parameters, blocks (the first is the entry) and shared arrays. */
public final class Function {
    private final String name;
    private final List<Param> params = new ArrayList<>();
    private final List<Block> blocks = new ArrayList<>();
    private final List<SharedArray> sharedArrays = new ArrayList<>();
    private int nextId;
    private int nextBlockId;

    public Function(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    public List<Param> params() {
        return params;
    }

    public List<Block> blocks() {
        return blocks;
    }

    public Block entry() {
        return blocks.getFirst();
    }

    public List<SharedArray> sharedArrays() {
        return sharedArrays;
    }

    public Block newBlock() {
        Block b = new Block(this, nextBlockId++);
        blocks.add(b);
        return b;
    }

    int nextId() {
        return nextId++;
    }

    /** Each block's predecessors, in block order. */
    public Map<Block, List<Block>> predecessors() {
        Map<Block, List<Block>> preds = new HashMap<>();
        for (Block b : blocks) {
            preds.computeIfAbsent(b, k -> new ArrayList<>());
            for (Block s : b.successors()) {
                preds.computeIfAbsent(s, k -> new ArrayList<>()).add(b);
            }
        }
        return preds;
    }

    /** A readable dump for debugging and test failure messages. */
    public String dump() {
        StringBuilder sb = new StringBuilder("function " + name + " " + params + "\n");
        Map<Block, Boolean> seen = new LinkedHashMap<>();
        for (Block b : blocks) {
            seen.put(b, true);
            sb.append(b).append(b.noUnroll() ? " (nounroll)" : "").append(":\n");
            for (Phi p : b.phis()) {
                sb.append("  ").append(p).append('\n');
            }
            for (Instr i : b.instrs()) {
                sb.append("  ").append(i).append('\n');
            }
            sb.append("  ").append(b.terminator()).append('\n');
        }
        return sb.toString();
    }
}
