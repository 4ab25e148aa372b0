package org.retroinfer.accel.compiler.frontend;

import java.lang.classfile.attribute.StackMapFrameInfo;
import java.lang.classfile.attribute.StackMapFrameInfo.ObjectVerificationTypeInfo;
import java.lang.classfile.attribute.StackMapFrameInfo.SimpleVerificationTypeInfo;
import java.lang.classfile.attribute.StackMapFrameInfo.VerificationTypeInfo;
import java.util.List;
import org.retroinfer.accel.compiler.ir.Block;
import org.retroinfer.accel.compiler.ir.Phi;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.compiler.ir.Value;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The phis at a branch target, typed from javac's StackMapTable frame: one per live local and stack slot
 * (per lane for the vector records; none for the KernelContext or an object under construction).
 */
final class FramePhis {
    private static final String CONTEXT = KernelContext.class.getName().replace('.', '/');

    private FramePhis() {}

    /** The state at the start of block {@code ir}; {@code firstIncoming} supplies objects under construction. */
    static FrameState enter(MethodTranslator t, Block ir, StackMapFrameInfo frame, FrameState firstIncoming) {
        FrameState s = new FrameState(t.code().maxLocals());
        int slot = 0;
        for (VerificationTypeInfo type : frame.locals()) {
            s.locals[slot] = keepHalfType(t, phiFor(t, type, ir, firstIncoming.locals[slot]), firstIncoming.locals[slot]);
            slot += type == SimpleVerificationTypeInfo.LONG || type == SimpleVerificationTypeInfo.DOUBLE ? 2 : 1;
        }
        List<VerificationTypeInfo> stackTypes = frame.stack();
        for (int i = 0; i < stackTypes.size(); i++) {
            s.push(keepHalfType(t, phiFor(t, stackTypes.get(i), ir, firstIncoming.stack.get(i)), firstIncoming.stack.get(i)));
        }
        return s;
    }

    /**
     * A phi of a {@code HalfPrecisionArray} parameter (a loop's, typically) reads the element type the parameter was
     * compiled for; {@link #fill} checks that every other incoming value agrees.
     */
    private static JValue keepHalfType(MethodTranslator t, JValue phi, JValue firstIncoming) {
        if (phi instanceof JValue.Scalar(Value p) && firstIncoming instanceof JValue.Scalar(Value in)
                && t.builder().halfType(in) != null) {
            t.builder().specialiseHalf(p, t.builder().halfType(in));
        }
        return phi;
    }

    private static JValue phiFor(MethodTranslator t, VerificationTypeInfo type, Block ir, JValue incomingValue) {
        return switch (type) {
            case SimpleVerificationTypeInfo simple -> switch (simple) {
                case TOP -> null;
                case INTEGER -> new JValue.Scalar(ir.addPhi(Type.I32));
                case FLOAT -> new JValue.Scalar(ir.addPhi(Type.F32));
                case LONG -> new JValue.Scalar(ir.addPhi(Type.I64));
                case DOUBLE -> new JValue.Scalar(ir.addPhi(Type.F64));
                case NULL -> throw t.error("null references are not supported in kernels", "pass an array argument");
                case UNINITIALIZED_THIS -> throw t.error("constructors cannot be kernel code", "");
            };
            case ObjectVerificationTypeInfo o -> objectPhi(t, o.className().asInternalName(), ir);
            case StackMapFrameInfo.UninitializedVerificationTypeInfo u -> {
                if (!(incomingValue instanceof JValue.Uninitialized)) {
                    throw t.error("internal error: expected an object under construction", "");
                }
                yield incomingValue;
            }
        };
    }

    private static JValue objectPhi(MethodTranslator t, String internalName, Block ir) {
        if (internalName.equals(CONTEXT)) {
            return JValue.ContextRef.INSTANCE;
        }
        VectorShape shape = VectorShape.forInternalName(internalName);
        if (shape != null) {
            Value[] lanes = new Value[shape.lanes()];
            for (int i = 0; i < lanes.length; i++) {
                lanes[i] = ir.addPhi(shape.laneType());
            }
            return new JValue.Aggregate(shape, lanes);
        }
        if (isPointerClass(internalName)) {
            return new JValue.Scalar(ir.addPhi(Type.PTR));
        }
        throw t.error("a value of type " + internalName.replace('/', '.') + " is live across this branch",
                "kernels hold only primitives, arrays, typed arrays, Float4/Float8/Int4 and the KernelContext");
    }

    /** Primitive arrays and typed arrays: the references that become pointers. */
    static boolean isPointerClass(String internalName) {
        return (internalName.length() == 2 && internalName.charAt(0) == '[' && "BSIJFD".indexOf(internalName.charAt(1)) >= 0)
                || TypedArrays.isTypedArray(internalName);
    }

    /** Adds {@code in}, arriving from {@code from}, to the phis that {@code target} holds. */
    static void fill(MethodTranslator t, JValue target, JValue in, Block from) {
        switch (target) {
            case JValue.Scalar(Value v) when v instanceof Phi p -> {
                Value incoming = ((JValue.Scalar) in).value();
                if (t.builder().halfType(p) != null && t.builder().halfType(p) != t.builder().halfType(incoming)) {
                    throw t.error("a HalfPrecisionArray variable holds arrays of different element types on different paths",
                            "give each element type its own variable, straight from a kernel parameter");
                }
                p.addIncoming(from, incoming);
            }
            case JValue.Aggregate(VectorShape shape, Value[] lanes) -> {
                JValue.Aggregate a = (JValue.Aggregate) in;
                for (int i = 0; i < lanes.length; i++) {
                    ((Phi) lanes[i]).addIncoming(from, a.lanes()[i]);
                }
            }
            case null, default -> {
            }
        }
    }
}
