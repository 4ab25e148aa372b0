package org.retroinfer.accel.compiler.frontend;

import java.lang.classfile.Instruction;
import java.lang.classfile.Opcode;
import java.lang.classfile.instruction.BranchInstruction;
import java.lang.classfile.instruction.LookupSwitchInstruction;
import java.lang.classfile.instruction.ReturnInstruction;
import java.lang.classfile.instruction.SwitchCase;
import java.lang.classfile.instruction.TableSwitchInstruction;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.retroinfer.accel.compiler.UnsupportedKernelException;
import org.retroinfer.accel.compiler.ir.Block;
import org.retroinfer.accel.compiler.ir.Cond;
import org.retroinfer.accel.compiler.ir.Const;
import org.retroinfer.accel.compiler.ir.Instr;
import org.retroinfer.accel.compiler.ir.Op;
import org.retroinfer.accel.compiler.ir.SourcePosition;
import org.retroinfer.accel.compiler.ir.Terminator;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.compiler.ir.Value;
import org.retroinfer.accel.compiler.opt.Folder;

/**
 * Translates one method body (the kernel, or a helper being inlined) from bytecode to SSA by abstract
 * interpretation. Blocks are visited in reverse postorder. A block that is a branch target starts with
 * one phi per live local and stack slot, typed from javac's StackMapTable frame; the phis' operands are
 * filled in once every predecessor has been translated. Any other block has exactly one predecessor (its
 * fall-through) and starts from that predecessor's state. Trivial phis are removed later.
 */
final class MethodTranslator {
    /** A control-flow edge into a bytecode block: the IR block it leaves and the state it carries. */
    private record Edge(Block from, FrameState state) {}

    /** The outcome of translating a helper: where the caller continues and the returned value (null for void). */
    record Result(Block continuation, JValue value) {}

    private final FunctionBuilder fb;
    private final MethodCode code;
    private final boolean kernel;
    private final Map<BytecodeBlock, Block> irBlocks = new LinkedHashMap<>();
    private final Map<BytecodeBlock, List<Edge>> incoming = new HashMap<>();
    private final Map<BytecodeBlock, FrameState> frameEntries = new LinkedHashMap<>();
    private final List<Edge> returns = new ArrayList<>();
    private final List<Integer> noUnrollAt = new ArrayList<>();
    private Block continuation;
    private Block current;
    private FrameState state;
    private BytecodeInsn insn;

    MethodTranslator(FunctionBuilder fb, MethodCode code, boolean kernel) {
        this.fb = fb;
        this.code = code;
        this.kernel = kernel;
    }

    /** Translates the body, entering at {@code entry} with {@code locals}; returns where control continues. */
    Result translate(Block entry, JValue[] locals) {
        if (code.hasExceptionHandlers()) {
            // javac guards synchronized blocks with a handler: name the monitor, not a try/catch
            for (BytecodeBlock b : code.blocks()) {
                for (BytecodeInsn i : b.insns()) {
                    if (i.instruction() instanceof java.lang.classfile.instruction.MonitorInstruction) {
                        insn = i;
                        throw Rejections.of(this, i.instruction());
                    }
                }
            }
            insn = new BytecodeInsn(code.firstHandlerBci(), code.lineAt(code.firstHandlerBci()), null);
            throw error("try/catch is not supported: kernels cannot throw or catch exceptions",
                    "check the condition with an if statement instead");
        }
        List<BytecodeBlock> order = reversePostorder();
        for (BytecodeBlock b : order) {
            irBlocks.put(b, fb.function().newBlock());
        }
        if (!kernel) {
            continuation = fb.function().newBlock();
        }
        FrameState initial = new FrameState(code.maxLocals());
        System.arraycopy(locals, 0, initial.locals, 0, locals.length);
        BytecodeBlock first = order.getFirst();
        entry.setTerminator(new Terminator.Jump(irBlocks.get(first)));
        incoming.computeIfAbsent(first, k -> new ArrayList<>()).add(new Edge(entry, initial));
        Set<BytecodeBlock> translated = new HashSet<>();
        for (BytecodeBlock b : order) {
            List<Edge> in = incoming.getOrDefault(b, List.of());
            if (in.isEmpty()) {
                continue; // unreachable once constant branches were folded
            }
            translateBlock(b, in);
            translated.add(b);
        }
        fillPhis();
        markNoUnrollLoops(translated);
        for (Map.Entry<BytecodeBlock, Block> e : irBlocks.entrySet()) {
            if (!translated.contains(e.getKey())) {
                fb.function().blocks().remove(e.getValue());
            }
        }
        return kernel ? new Result(null, null) : mergeReturns();
    }

    private List<BytecodeBlock> reversePostorder() {
        List<BytecodeBlock> post = new ArrayList<>();
        Set<BytecodeBlock> seen = new HashSet<>();
        Deque<Object[]> stack = new ArrayDeque<>();
        BytecodeBlock start = code.blocks().getFirst();
        seen.add(start);
        stack.push(new Object[] {start, 0});
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            BytecodeBlock b = (BytecodeBlock) top[0];
            int next = (Integer) top[1];
            if (next < b.successors().size()) {
                top[1] = next + 1;
                BytecodeBlock s = b.successors().get(next);
                if (seen.add(s)) {
                    stack.push(new Object[] {s, 0});
                }
            } else {
                stack.pop();
                post.add(b);
            }
        }
        return post.reversed();
    }

    private void translateBlock(BytecodeBlock b, List<Edge> in) {
        current = irBlocks.get(b);
        insn = b.insns().getFirst();
        if (b.frame() != null) {
            state = FramePhis.enter(this, irBlocks.get(b), b.frame(), in.getFirst().state());
            frameEntries.put(b, state.copy());
        } else {
            if (in.size() != 1) {
                throw error("internal error: block without a stack map frame has " + in.size() + " predecessors", "");
            }
            state = in.getFirst().state().copy();
        }
        for (BytecodeInsn i : b.insns()) {
            insn = i;
            interpret(i.instruction());
        }
        if (!current.isTerminated()) {
            jumpTo(b.successors().getFirst());
        }
    }

    private void interpret(Instruction ins) {
        switch (ins) {
            case BranchInstruction br -> branch(br);
            case TableSwitchInstruction ts -> switchOn(ts.defaultTarget(), ts.cases());
            case LookupSwitchInstruction ls -> switchOn(ls.defaultTarget(), ls.cases());
            case ReturnInstruction r -> returnFrom(r);
            default -> {
                if (!StraightLine.interpret(this, ins) && !Calls.interpret(this, ins)) {
                    throw Rejections.of(this, ins);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------- phis

    private void fillPhis() {
        for (Map.Entry<BytecodeBlock, FrameState> e : frameEntries.entrySet()) {
            FrameState entry = e.getValue();
            for (Edge edge : incoming.get(e.getKey())) {
                for (int i = 0; i < entry.locals.length; i++) {
                    FramePhis.fill(this, entry.locals[i], edge.state().locals[i], edge.from());
                }
                for (int i = 0; i < entry.stack.size(); i++) {
                    FramePhis.fill(this, entry.stack.get(i), edge.state().stack.get(i), edge.from());
                }
            }
        }
    }

    private void markNoUnrollLoops(Set<BytecodeBlock> translated) {
        for (int bci : noUnrollAt) {
            for (BytecodeBlock b : code.blocks()) {
                if (b.startBci() > bci && b.isLoopHeader() && translated.contains(b)) {
                    irBlocks.get(b).setNoUnroll(true);
                    break;
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------- control flow

    private void addEdge(BytecodeBlock target, Block from) {
        incoming.computeIfAbsent(target, k -> new ArrayList<>()).add(new Edge(from, state.copy()));
    }

    private void jumpTo(BytecodeBlock target) {
        current.setTerminator(new Terminator.Jump(irBlocks.get(target)));
        addEdge(target, current);
    }

    private BytecodeBlock blockAt(java.lang.classfile.Label label) {
        return code.blockAt(code.bciOf(label));
    }

    private BytecodeBlock fallThrough() {
        int next = insn.bci() + insn.instruction().sizeInBytes();
        return code.blockAt(next);
    }

    /** Ends the block: to {@code taken} when {@code condition} holds, else to {@code notTaken}. */
    private void branchOn(Value condition, BytecodeBlock taken, BytecodeBlock notTaken) {
        if (condition instanceof Const c) {
            jumpTo(c.asBoolean() ? taken : notTaken);
        } else if (taken == notTaken) {
            jumpTo(taken);
        } else {
            current.setTerminator(new Terminator.Branch(condition, irBlocks.get(taken), irBlocks.get(notTaken)));
            addEdge(taken, current);
            addEdge(notTaken, current);
        }
    }

    private void branch(BranchInstruction br) {
        Opcode op = br.opcode();
        BytecodeBlock target = blockAt(br.target());
        switch (op) {
            case GOTO, GOTO_W -> jumpTo(target);
            case IFEQ, IFNE, IFLT, IFGE, IFGT, IFLE -> {
                Value v = popValue();
                Cond.Kind kind = kindOf(op);
                branchOn(compareWithZero(v, kind), target, fallThrough());
            }
            case IF_ICMPEQ, IF_ICMPNE, IF_ICMPLT, IF_ICMPGE, IF_ICMPGT, IF_ICMPLE -> {
                Value b = popValue();
                Value a = popValue();
                branchOn(emit(Op.CMP, Type.PRED, Cond.of(kindOf(op)), a, b), target, fallThrough());
            }
            default -> throw error("reference comparison or null check (" + op.name().toLowerCase() + ")",
                    "kernels have no null references; compare indices or sizes instead");
        }
    }

    /**
     * {@code v <kind> 0}. When {@code v} is a Java three-way compare (fcmpl/fcmpg/lcmp), compares its
     * operands directly, picking the unordered PTX condition exactly when NaN must satisfy the Java test.
     */
    private Value compareWithZero(Value v, Cond.Kind kind) {
        if (v instanceof Instr i && i.op() == Op.CMP3) {
            Value a = i.operand(0);
            Value b = i.operand(1);
            boolean unordered = a.type().isFloat() && kind.holds(i.attribute(Integer.class));
            return emit(Op.CMP, Type.PRED, new Cond(kind, unordered), a, b);
        }
        return emit(Op.CMP, Type.PRED, Cond.of(kind), v, Const.i32(0));
    }

    private static Cond.Kind kindOf(Opcode op) {
        return switch (op) {
            case IFEQ, IF_ICMPEQ -> Cond.Kind.EQ;
            case IFNE, IF_ICMPNE -> Cond.Kind.NE;
            case IFLT, IF_ICMPLT -> Cond.Kind.LT;
            case IFGE, IF_ICMPGE -> Cond.Kind.GE;
            case IFGT, IF_ICMPGT -> Cond.Kind.GT;
            case IFLE, IF_ICMPLE -> Cond.Kind.LE;
            default -> throw new IllegalArgumentException(op.toString());
        };
    }

    /** A switch as a chain of equality tests, one block per case. */
    private void switchOn(java.lang.classfile.Label defaultTarget, List<SwitchCase> cases) {
        Value key = popValue();
        for (SwitchCase c : cases) {
            Value eq = emit(Op.CMP, Type.PRED, Cond.of(Cond.Kind.EQ), key, Const.i32(c.caseValue()));
            if (eq instanceof Const k) {
                if (k.asBoolean()) {
                    jumpTo(blockAt(c.target()));
                    return;
                }
                continue;
            }
            Block next = fb.function().newBlock();
            current.setTerminator(new Terminator.Branch(eq, irBlocks.get(blockAt(c.target())), next));
            addEdge(blockAt(c.target()), current);
            current = next;
        }
        jumpTo(blockAt(defaultTarget));
    }

    private void returnFrom(ReturnInstruction r) {
        if (kernel) {
            current.setTerminator(new Terminator.Return());
            return;
        }
        FrameState s = new FrameState(0);
        if (r.opcode() != Opcode.RETURN) {
            s.push(state.pop());
        }
        returns.add(new Edge(current, s));
        current.setTerminator(new Terminator.Jump(continuation));
    }

    private Result mergeReturns() {
        if (returns.isEmpty()) {
            throw error("the method never returns", "kernels and their helpers must terminate");
        }
        if (returns.getFirst().state().stack.isEmpty()) {
            return new Result(continuation, null);
        }
        JValue first = returns.getFirst().state().peek();
        boolean same = returns.stream().allMatch(e -> e.state().peek().equals(first));
        if (same) {
            return new Result(continuation, first);
        }
        JValue merged = switch (first) {
            case JValue.Scalar(Value v) -> new JValue.Scalar(continuation.addPhi(v.type()));
            case JValue.Aggregate(VectorShape shape, Value[] lanes) -> {
                Value[] phis = new Value[lanes.length];
                for (int i = 0; i < phis.length; i++) {
                    phis[i] = continuation.addPhi(shape.laneType());
                }
                yield new JValue.Aggregate(shape, phis);
            }
            default -> throw error("a helper returns different " + first.getClass().getSimpleName() + " values", "");
        };
        for (Edge e : returns) {
            FramePhis.fill(this, merged, e.state().peek(), e.from());
        }
        return new Result(continuation, merged);
    }

    // ---------------------------------------------------------------------------------------- helpers for the instruction families

    FunctionBuilder builder() {
        return fb;
    }

    MethodCode code() {
        return code;
    }

    FrameState state() {
        return state;
    }

    Block currentBlock() {
        return current;
    }

    void continueIn(Block block) {
        current = block;
    }

    /** Marks the next loop after the current instruction as not to be unrolled. */
    void noUnrollNextLoop() {
        noUnrollAt.add(insn.bci());
    }

    void push(Value v) {
        state.push(new JValue.Scalar(v));
    }

    void push(JValue v) {
        state.push(v);
    }

    JValue pop() {
        return state.pop();
    }

    /** Pops a primitive or pointer; anything else means the kernel uses an object where a value is needed. */
    Value popValue() {
        JValue v = state.pop();
        if (v instanceof JValue.Scalar(Value value)) {
            return value;
        }
        throw error("a " + describe(v) + " is used where a primitive value or array is expected", "");
    }

    static String describe(JValue v) {
        return switch (v) {
            case JValue.ContextRef c -> "KernelContext";
            case JValue.Aggregate a -> a.shape().type().getSimpleName();
            case JValue.Uninitialized u -> "object under construction";
            case JValue.Scalar s -> s.value().type().name();
        };
    }

    /** Emits {@code op} in the current block, or returns its folded constant. */
    Value emit(Op op, Type type, Object attribute, Value... operands) {
        Value folded = Folder.fold(op, type, attribute, operands);
        if (folded != null) {
            return folded;
        }
        return current.append(op, type, attribute, position(), operands);
    }

    /** Emits an instruction that must stay even if its value is unused (stores, barriers, atomics). */
    Instr emitEffect(Op op, Type type, Object attribute, Value... operands) {
        return current.append(op, type, attribute, position(), operands);
    }

    SourcePosition position() {
        return new SourcePosition(code.className(), code.methodName(), code.sourceFile(), insn.line(), insn.bci());
    }

    UnsupportedKernelException error(String problem, String hint) {
        return new UnsupportedKernelException(position(), fb.callChain(), problem, hint);
    }
}
