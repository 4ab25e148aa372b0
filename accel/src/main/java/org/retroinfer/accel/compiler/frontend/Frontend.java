package org.retroinfer.accel.compiler.frontend;

import java.lang.classfile.MethodModel;
import java.lang.reflect.Method;
import java.util.Map;
import org.retroinfer.accel.compiler.CompileOptions;
import org.retroinfer.accel.compiler.ir.Block;
import org.retroinfer.accel.compiler.ir.Const;
import org.retroinfer.accel.compiler.ir.Function;
import org.retroinfer.accel.compiler.ir.Param;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.compiler.ir.Value;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.KernelParameter;

/** Bytecode to SSA: builds the IR function of one kernel specialisation. */
public final class Frontend {
    private Frontend() {}

    /**
     * Translates {@code kernel} with its {@code @Constant} parameters bound to {@code constants} (keyed by
     * Java parameter index), and its {@code HalfPrecisionArray} parameters to the element type given there. Every non-context parameter keeps its PTX parameter, so launches pass the same
     * argument list whatever the specialisation.
     */
    public static Function translate(KernelMethod kernel, Map<Integer, Object> constants, CompileOptions options) {
        Method m = kernel.method();
        ClassBytes bytes = ClassBytes.of(m.getDeclaringClass());
        String descriptor = java.lang.invoke.MethodType.methodType(m.getReturnType(), m.getParameterTypes())
                .toMethodDescriptorString();
        MethodModel model = bytes.model().methods().stream()
                .filter(mm -> mm.methodName().stringValue().equals(m.getName()) && mm.methodType().stringValue().equals(descriptor))
                .findFirst().orElseThrow(() -> new IllegalStateException("no bytecode for " + kernel.describe()));
        MethodCode code = MethodCode.of(bytes, model);
        Function function = new Function(ptxName(m.getName()));
        FunctionBuilder fb = new FunctionBuilder(function, options);
        Block prologue = function.newBlock();
        JValue[] locals = new JValue[code.maxLocals()];
        int slot = 0;
        int ptxIndex = 0;
        for (KernelParameter p : kernel.parameters()) {
            JValue v = switch (p.kind()) {
                case CONTEXT -> JValue.ContextRef.INSTANCE;
                case INT, LONG, FLOAT, DOUBLE, JAVA_ARRAY, TYPED_ARRAY -> {
                    Param param = new Param(typeOf(p), ptxIndex++, p.name());
                    function.params().add(param);
                    if (p.halfPrecision()) {
                        fb.specialiseHalf(param, (ElementType) constants.get(p.index()));
                    }
                    yield new JValue.Scalar(p.constant() ? constant(p, constants.get(p.index())) : param);
                }
            };
            locals[slot] = v;
            slot += v.wide() ? 2 : 1;
        }
        fb.enter(new FunctionBuilder.Frame(bytes.type().getName(), m.getName(), descriptor, null));
        new MethodTranslator(fb, code, true).translate(prologue, locals);
        fb.leave();
        return function;
    }

    private static Type typeOf(KernelParameter p) {
        return switch (p.kind()) {
            case INT -> Type.I32;
            case LONG -> Type.I64;
            case FLOAT -> Type.F32;
            case DOUBLE -> Type.F64;
            default -> Type.PTR;
        };
    }

    private static Value constant(KernelParameter p, Object value) {
        if (value == null) {
            throw new IllegalArgumentException("@Constant parameter " + p.describe() + " needs a value to specialise on");
        }
        return switch (p.kind()) {
            case INT -> Const.i32(((Number) value).intValue());
            case LONG -> Const.i64(((Number) value).longValue());
            case FLOAT -> Const.f32(((Number) value).floatValue());
            case DOUBLE -> Const.f64(((Number) value).doubleValue());
            default -> throw new IllegalArgumentException(p.describe() + " cannot be a @Constant");
        };
    }

    /** PTX identifiers are ASCII letters, digits, _ and $; anything else in a Java name becomes _. */
    static String ptxName(String javaName) {
        StringBuilder sb = new StringBuilder();
        for (char c : javaName.toCharArray()) {
            sb.append((c < 128 && (Character.isLetterOrDigit(c) || c == '_' || c == '$')) ? c : '_');
        }
        return sb.toString();
    }
}
