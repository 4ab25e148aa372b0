package org.retroinfer.accel.compiler.frontend;

import java.lang.classfile.Instruction;
import java.lang.classfile.instruction.DiscontinuedInstruction;
import java.lang.classfile.instruction.InvokeDynamicInstruction;
import java.lang.classfile.instruction.MonitorInstruction;
import java.lang.classfile.instruction.NewMultiArrayInstruction;
import java.lang.classfile.instruction.NewPrimitiveArrayInstruction;
import java.lang.classfile.instruction.NewReferenceArrayInstruction;
import java.lang.classfile.instruction.ThrowInstruction;
import java.lang.classfile.instruction.TypeCheckInstruction;
import org.retroinfer.accel.compiler.UnsupportedKernelException;

/** The bytecodes a kernel can never use, each with what to write instead. */
final class Rejections {
    private Rejections() {}

    static UnsupportedKernelException of(MethodTranslator t, Instruction ins) {
        return switch (ins) {
            case NewPrimitiveArrayInstruction n -> t.error("new " + n.typeKind().name().toLowerCase()
                    + "[] allocates a Java array; kernels cannot allocate",
                    "use ctx.allocateFloatLocalArray(size) (or the int/half variants) for a block-shared array,"
                            + " or pass a buffer as a parameter");
            case NewReferenceArrayInstruction n -> t.error("new " + n.componentType().asInternalName().replace('/', '.')
                    + "[] allocates an array of objects; kernels cannot allocate", "pass primitive or typed arrays");
            case NewMultiArrayInstruction n -> t.error("a multi-dimensional array is allocated; kernels cannot allocate",
                    "index a flat array as row * width + column");
            case ThrowInstruction th -> t.error("throw: kernels cannot throw exceptions",
                    "report errors through an output array, or check arguments on the host before the launch");
            case MonitorInstruction m -> t.error("synchronized is not supported in kernels",
                    "use ctx.localBarrier() between phases, or the KernelContext atomics");
            case InvokeDynamicInstruction i -> t.error("invokedynamic (" + i.name().stringValue()
                    + "): a lambda, method reference, string concatenation or record equals/hashCode/toString",
                    "write the computation directly; kernels cannot build strings or call lambdas");
            case TypeCheckInstruction c -> t.error("an object type check or cast (" + c.opcode().name().toLowerCase() + ")",
                    "kernels hold only primitives, arrays, typed arrays and vector values");
            case DiscontinuedInstruction d -> t.error("jsr/ret from pre-Java-6 class files", "recompile the class");
            default -> t.error("unsupported bytecode " + ins.opcode().name().toLowerCase(), "");
        };
    }
}
