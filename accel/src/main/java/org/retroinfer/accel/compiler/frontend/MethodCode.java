package org.retroinfer.accel.compiler.frontend;

import java.lang.classfile.Attributes;
import java.lang.classfile.CodeElement;
import java.lang.classfile.Instruction;
import java.lang.classfile.MethodModel;
import java.lang.classfile.Opcode;
import java.lang.classfile.attribute.CodeAttribute;
import java.lang.classfile.attribute.StackMapFrameInfo;
import java.lang.classfile.instruction.BranchInstruction;
import java.lang.classfile.instruction.LineNumber;
import java.lang.classfile.instruction.LookupSwitchInstruction;
import java.lang.classfile.instruction.ReturnInstruction;
import java.lang.classfile.instruction.SwitchCase;
import java.lang.classfile.instruction.TableSwitchInstruction;
import java.lang.classfile.instruction.ThrowInstruction;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A method's bytecode cut into basic blocks, with line numbers and the StackMapTable frames javac
 * emits at every branch target.
 */
final class MethodCode {
    private final ClassBytes owner;
    private final MethodModel method;
    private final CodeAttribute code;
    private final String sourceFile;
    private final List<BytecodeBlock> blocks = new ArrayList<>();
    private final List<BytecodeInsn> insns = new ArrayList<>();

    private MethodCode(ClassBytes owner, MethodModel method, CodeAttribute code) {
        this.owner = owner;
        this.method = method;
        this.code = code;
        this.sourceFile = owner.model().findAttribute(Attributes.sourceFile())
                .map(a -> a.sourceFile().stringValue()).orElse(owner.type().getSimpleName() + ".java");
        TreeSet<Integer> leaders = new TreeSet<>();
        leaders.add(0);
        int bci = 0;
        int line = -1;
        for (CodeElement e : code) {
            switch (e) {
                case LineNumber ln -> line = ln.line();
                case Instruction ins -> {
                    insns.add(new BytecodeInsn(bci, line, ins));
                    int next = bci + ins.sizeInBytes();
                    for (int target : targets(ins)) {
                        leaders.add(target);
                    }
                    if (endsBlock(ins)) {
                        leaders.add(next);
                    }
                    bci = next;
                }
                default -> {
                }
            }
        }
        Map<Integer, BytecodeBlock> byStart = new TreeMap<>();
        BytecodeBlock current = null;
        for (BytecodeInsn insn : insns) {
            if (leaders.contains(insn.bci())) {
                current = new BytecodeBlock(insn.bci());
                byStart.put(insn.bci(), current);
                blocks.add(current);
            }
            current.insns().add(insn);
        }
        code.findAttribute(Attributes.stackMapTable()).ifPresent(t -> {
            for (StackMapFrameInfo f : t.entries()) {
                BytecodeBlock b = byStart.get(code.labelToBci(f.target()));
                if (b != null) {
                    b.setFrame(f);
                }
            }
        });
        for (int i = 0; i < blocks.size(); i++) {
            BytecodeBlock b = blocks.get(i);
            Instruction last = b.last().instruction();
            List<Integer> succ = new ArrayList<>();
            for (int t : targets(last)) {
                if (!succ.contains(t)) {
                    succ.add(t);
                }
            }
            if (!endsBlock(last) || isConditional(last)) {
                if (i + 1 < blocks.size() && !succ.contains(blocks.get(i + 1).startBci())) {
                    succ.add(blocks.get(i + 1).startBci());
                }
            }
            for (int s : succ) {
                BytecodeBlock target = byStart.get(s);
                b.successors().add(target);
                target.predecessors().add(b);
            }
        }
    }

    static MethodCode of(ClassBytes owner, MethodModel method) {
        CodeAttribute code = method.findAttribute(Attributes.code()).orElse(null);
        if (code == null) {
            return null;
        }
        return new MethodCode(owner, method, code);
    }

    /** The source line of the instruction at or before {@code bci}. */
    int lineAt(int bci) {
        int line = -1;
        for (BytecodeInsn i : insns) {
            if (i.bci() > bci) {
                break;
            }
            line = i.line();
        }
        return line;
    }

    private List<Integer> targets(Instruction ins) {
        List<Integer> t = new ArrayList<>();
        switch (ins) {
            case BranchInstruction b -> t.add(code.labelToBci(b.target()));
            case TableSwitchInstruction s -> {
                t.add(code.labelToBci(s.defaultTarget()));
                for (SwitchCase c : s.cases()) {
                    t.add(code.labelToBci(c.target()));
                }
            }
            case LookupSwitchInstruction s -> {
                t.add(code.labelToBci(s.defaultTarget()));
                for (SwitchCase c : s.cases()) {
                    t.add(code.labelToBci(c.target()));
                }
            }
            default -> {
            }
        }
        return t;
    }

    private static boolean endsBlock(Instruction ins) {
        return ins instanceof BranchInstruction || ins instanceof TableSwitchInstruction
                || ins instanceof LookupSwitchInstruction || ins instanceof ReturnInstruction
                || ins instanceof ThrowInstruction;
    }

    private static boolean isConditional(Instruction ins) {
        return ins instanceof BranchInstruction b && b.opcode() != Opcode.GOTO && b.opcode() != Opcode.GOTO_W;
    }

    int bciOf(java.lang.classfile.Label label) {
        return code.labelToBci(label);
    }

    ClassBytes owner() {
        return owner;
    }

    MethodModel method() {
        return method;
    }

    String className() {
        return owner.type().getName();
    }

    String methodName() {
        return method.methodName().stringValue();
    }

    String sourceFile() {
        return sourceFile;
    }

    int maxLocals() {
        return code.maxLocals();
    }

    List<BytecodeBlock> blocks() {
        return blocks;
    }

    /** The block starting at {@code bci}. */
    BytecodeBlock blockAt(int bci) {
        for (BytecodeBlock b : blocks) {
            if (b.startBci() == bci) {
                return b;
            }
        }
        throw new IllegalArgumentException("no block starts at bci " + bci);
    }

    boolean hasExceptionHandlers() {
        return !code.exceptionHandlers().isEmpty();
    }

    /** Bytecode offset of the first try block (meaningful only with handlers). */
    int firstHandlerBci() {
        return code.labelToBci(code.exceptionHandlers().getFirst().tryStart());
    }
}
