package org.retroinfer.accel.compiler.frontend;

import java.lang.classfile.AccessFlags;
import java.lang.classfile.Instruction;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.FieldInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.NewObjectInstruction;
import java.lang.constant.MethodTypeDesc;
import java.lang.reflect.AccessFlag;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.retroinfer.accel.compiler.ir.Block;
import org.retroinfer.accel.compiler.ir.Const;
import org.retroinfer.accel.compiler.ir.Terminator;
import org.retroinfer.accel.compiler.ir.Value;

/**
 * Field reads, method calls and {@code new}: intrinsics are translated, other static methods (and the
 * methods of the vector records and {@code KernelContext}) are inlined, everything else is refused.
 */
final class Calls {
    /** Deep enough for any sensible helper chain; a deeper one is almost certainly runaway inlining. */
    private static final int MAX_INLINE_DEPTH = 32;

    private Calls() {}

    static boolean interpret(MethodTranslator t, Instruction ins) {
        switch (ins) {
            case FieldInstruction f -> field(t, f);
            case InvokeInstruction i -> invoke(t, i);
            case NewObjectInstruction n -> {
                VectorShape shape = VectorShape.forInternalName(n.className().asInternalName());
                if (shape == null && isThrowable(t, n.className().asInternalName())) {
                    throw t.error("throw: kernels cannot throw exceptions",
                            "report errors through an output array, or check arguments on the host before the launch");
                }
                if (shape == null) {
                    throw t.error("new " + n.className().asInternalName().replace('/', '.')
                            + " allocates an object; kernels cannot allocate", "use primitives, or Float4/Float8/Int4 for vectors");
                }
                t.push(new JValue.Uninitialized(shape, t.builder().nextUninitializedId()));
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private static void field(MethodTranslator t, FieldInstruction f) {
        String owner = f.owner().asInternalName();
        String name = f.name().stringValue();
        switch (f.opcode()) {
            case GETFIELD -> {
                JValue obj = t.pop();
                switch (obj) {
                    case JValue.ContextRef c -> t.push(ContextIntrinsics.field(t, name));
                    case JValue.Aggregate a -> t.push(a.lanes()[a.shape().lane(name)]);
                    default -> throw t.error("field " + owner.replace('/', '.') + "." + name + " of an object is read",
                            "kernels have no objects; pass values as parameters");
                }
            }
            case GETSTATIC -> t.push(staticConstant(t, owner, name));
            default -> throw t.error("kernels cannot write fields (" + owner.replace('/', '.') + "." + name + ")",
                    "write results into an array parameter");
        }
    }

    /** A static final primitive field, read once at compile time (its value cannot change afterwards). */
    private static Value staticConstant(MethodTranslator t, String owner, String name) {
        Class<?> type = load(t, owner);
        try {
            Field field = type.getDeclaredField(name);
            int mods = field.getModifiers();
            if (!Modifier.isStatic(mods) || !Modifier.isFinal(mods) || !field.getType().isPrimitive()) {
                throw t.error("static field " + type.getName() + "." + name + " is not a static final primitive",
                        "kernels read only static final int/long/float/double constants; pass other values as parameters");
            }
            field.setAccessible(true);
            Class<?> ft = field.getType();
            if (ft == long.class) {
                return Const.i64(field.getLong(null));
            } else if (ft == float.class) {
                return Const.f32(field.getFloat(null));
            } else if (ft == double.class) {
                return Const.f64(field.getDouble(null));
            } else if (ft == boolean.class) {
                return Const.i32(field.getBoolean(null) ? 1 : 0);
            }
            return Const.i32(((Number) (ft == char.class ? (int) field.getChar(null) : field.get(null))).intValue());
        } catch (NoSuchFieldException | IllegalAccessException e) {
            throw t.error("cannot read static field " + type.getName() + "." + name + " (" + e + ")", "");
        }
    }

    private static void invoke(MethodTranslator t, InvokeInstruction i) {
        String owner = i.owner().asInternalName();
        String name = i.name().stringValue();
        MethodTypeDesc type = i.typeSymbol();
        String descriptor = type.descriptorString();
        switch (i.opcode()) {
            case INVOKESTATIC -> {
                if (!MathIntrinsics.apply(t, owner, name, descriptor)) {
                    inline(t, owner, name, type, false);
                }
            }
            case INVOKEVIRTUAL, INVOKESPECIAL -> {
                List<JValue> stack = t.state().stack;
                JValue receiver = stack.get(stack.size() - 1 - type.parameterCount());
                switch (receiver) {
                    case JValue.ContextRef c -> {
                        if (!ContextIntrinsics.apply(t, name, descriptor)) {
                            inline(t, owner, name, type, true);
                        }
                    }
                    case JValue.Aggregate a -> inline(t, a.shape().type().getName().replace('.', '/'), name, type, true);
                    case JValue.Uninitialized u when name.equals("<init>") -> construct(t, u, descriptor);
                    case JValue.Scalar s when TypedArrays.isTypedArray(owner) -> TypedArrays.apply(t,
                            TypedArrays.concreteOwner(t, owner, s.value()), name, descriptor);
                    default -> throw t.error("virtual call to " + owner.replace('/', '.') + "." + name,
                            "kernels cannot call methods on objects; call static helper methods instead");
                }
            }
            default -> throw t.error("interface call to " + owner.replace('/', '.') + "." + name,
                    "kernels cannot dispatch through interfaces; call static helper methods instead");
        }
    }

    /** {@code new Float4(a, b, c, d)}: the record becomes its lanes. */
    private static void construct(MethodTranslator t, JValue.Uninitialized u, String descriptor) {
        VectorShape shape = u.shape();
        if (!descriptor.equals(shape.constructorDescriptor())) {
            throw t.error("only the canonical constructor of " + shape.type().getSimpleName() + " can be used", "");
        }
        Value[] lanes = new Value[shape.lanes()];
        for (int i = lanes.length - 1; i >= 0; i--) {
            lanes[i] = t.popValue();
        }
        t.pop();
        t.state().replace(u, new JValue.Aggregate(shape, lanes));
    }

    private static boolean isThrowable(MethodTranslator t, String internalName) {
        try {
            return Throwable.class.isAssignableFrom(load(t, internalName));
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static Class<?> load(MethodTranslator t, String internalName) {
        String name = internalName.replace('/', '.');
        try {
            return Class.forName(name, true, t.code().owner().type().getClassLoader());
        } catch (ClassNotFoundException e) {
            throw t.error("class " + name + " is not visible from " + t.code().className(), "");
        }
    }

    /** Inlines a call: the callee's blocks are spliced in, its returns jump to a continuation block. */
    private static void inline(MethodTranslator t, String owner, String name, MethodTypeDesc type, boolean instance) {
        Class<?> cls = load(t, owner);
        if (cls.getClassLoader() == null || cls.getName().startsWith("java.") || cls.getName().startsWith("jdk.")) {
            throw t.error("call to " + cls.getName() + "." + name + " is not supported on the GPU",
                    "kernels may call KMath, Math.fma/min/max/abs/sqrt, Float/Double bit conversions, KernelContext"
                            + " methods, typed-array accessors and their own static helpers");
        }
        String descriptor = type.descriptorString();
        ClassBytes bytes = null;
        MethodModel method = null;
        for (Class<?> c = cls; c != null && method == null; c = c.getSuperclass()) {
            bytes = ClassBytes.of(c);
            method = find(bytes, name, descriptor);
        }
        if (method == null) {
            throw t.error("cannot find " + cls.getName() + "." + name + descriptor, "");
        }
        AccessFlags flags = method.flags();
        if (flags.has(AccessFlag.NATIVE) || flags.has(AccessFlag.ABSTRACT)) {
            throw t.error(cls.getName() + "." + name + " has no bytecode (native or abstract)", "");
        }
        if (instance && !flags.has(AccessFlag.FINAL) && !java.lang.reflect.Modifier.isFinal(cls.getModifiers())
                && !flags.has(AccessFlag.PRIVATE)) {
            throw t.error("virtual call to " + cls.getName() + "." + name, "call a static helper method instead");
        }
        if (name.equals("<init>")) {
            throw t.error("constructors cannot run in kernels (" + cls.getName() + ")", "");
        }
        String ownerName = bytes.type().getName();
        if (t.builder().isBeingTranslated(ownerName, name, descriptor)) {
            throw t.error("recursive call to " + ownerName + "." + name + ": kernels have no call stack",
                    "rewrite the recursion as a loop");
        }
        if (t.builder().inlineDepth() >= MAX_INLINE_DEPTH) {
            throw t.error("helpers nested more than " + MAX_INLINE_DEPTH + " calls deep", "flatten the helper chain");
        }
        MethodCode code = MethodCode.of(bytes, method);
        List<JValue> args = new ArrayList<>();
        for (int i = 0; i < type.parameterCount(); i++) {
            args.addFirst(t.pop());
        }
        if (instance) {
            args.addFirst(t.pop());
        }
        JValue[] locals = new JValue[code.maxLocals()];
        int slot = 0;
        for (JValue a : args) {
            locals[slot] = a;
            slot += a.wide() ? 2 : 1;
        }
        Block entry = t.builder().function().newBlock();
        t.currentBlock().setTerminator(new Terminator.Jump(entry));
        t.builder().enter(new FunctionBuilder.Frame(ownerName, name, descriptor, t.position()));
        MethodTranslator.Result result = new MethodTranslator(t.builder(), code, false).translate(entry, locals);
        t.builder().leave();
        t.continueIn(result.continuation());
        if (result.value() != null) {
            t.push(result.value());
        }
    }

    private static MethodModel find(ClassBytes bytes, String name, String descriptor) {
        for (MethodModel m : bytes.model().methods()) {
            if (m.methodName().stringValue().equals(name) && m.methodType().stringValue().equals(descriptor)) {
                return m;
            }
        }
        return null;
    }
}
