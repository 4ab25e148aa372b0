package org.retroinfer.accel.kernel;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A checked {@link Kernel} method: static, void, with parameters the GPU can take. The emulator, the
 * compiler and the runtime all start from one, so a bad signature fails the same way everywhere.
 */
public final class KernelMethod {
    private final Method method;
    private final List<KernelParameter> parameters;
    private final List<KernelParameter> arguments;

    private KernelMethod(Method method, List<KernelParameter> parameters) {
        this.method = method;
        this.parameters = List.copyOf(parameters);
        this.arguments = parameters.stream().filter(p -> p.kind() != ParameterKind.CONTEXT).toList();
    }

    /** The one {@link Kernel} method called {@code name} in {@code owner}. */
    public static KernelMethod of(Class<?> owner, String name) {
        List<Method> found = Arrays.stream(owner.getDeclaredMethods())
                .filter(m -> m.getName().equals(name) && m.isAnnotationPresent(Kernel.class)).toList();
        if (found.isEmpty()) {
            throw new IllegalArgumentException(owner.getName() + " has no @Kernel method named " + name
                    + "; its kernels are " + kernelNames(owner));
        }
        if (found.size() > 1) {
            throw new IllegalArgumentException(owner.getName() + " has " + found.size() + " @Kernel methods named "
                    + name + "; give overloaded kernels distinct names");
        }
        return of(found.getFirst());
    }

    /** Checks {@code method} and describes its parameters. */
    public static KernelMethod of(Method method) {
        String where = method.getDeclaringClass().getName() + "." + method.getName();
        if (!method.isAnnotationPresent(Kernel.class)) {
            throw new IllegalArgumentException(where + " is not annotated @Kernel");
        }
        if (!Modifier.isStatic(method.getModifiers())) {
            throw new IllegalArgumentException(where + " must be static: kernels have no receiver object");
        }
        if (method.getReturnType() != void.class) {
            throw new IllegalArgumentException(where + " must return void: write results into an array parameter");
        }
        List<KernelParameter> params = new ArrayList<>();
        Parameter[] reflected = method.getParameters();
        boolean sawContext = false;
        for (int i = 0; i < reflected.length; i++) {
            Parameter p = reflected[i];
            ParameterKind kind = kindOf(p.getType(), where, i);
            boolean constant = p.isAnnotationPresent(Constant.class);
            if (kind == ParameterKind.CONTEXT) {
                if (sawContext) {
                    throw new IllegalArgumentException(where + " takes more than one KernelContext; take one");
                }
                sawContext = true;
            }
            if (constant && !(kind == ParameterKind.INT || kind == ParameterKind.LONG || kind == ParameterKind.FLOAT
                    || kind == ParameterKind.DOUBLE)) {
                throw new IllegalArgumentException(where + ": @Constant parameter " + i + " (" + p.getType().getSimpleName()
                        + ") must be an int, long, float or double");
            }
            params.add(new KernelParameter(i, p.isNamePresent() ? p.getName() : "arg" + i, p.getType(), kind, constant));
        }
        method.setAccessible(true);
        return new KernelMethod(method, params);
    }

    private static ParameterKind kindOf(Class<?> type, String where, int index) {
        if (type == KernelContext.class) {
            return ParameterKind.CONTEXT;
        }
        if (type == int.class) {
            return ParameterKind.INT;
        }
        if (type == long.class) {
            return ParameterKind.LONG;
        }
        if (type == float.class) {
            return ParameterKind.FLOAT;
        }
        if (type == double.class) {
            return ParameterKind.DOUBLE;
        }
        if (type.isArray() && type.getComponentType().isPrimitive() && type != boolean[].class && type != char[].class) {
            return ParameterKind.JAVA_ARRAY;
        }
        if (TypedArray.class.isAssignableFrom(type) && type != TypedArray.class) {
            return ParameterKind.TYPED_ARRAY;
        }
        throw new IllegalArgumentException(where + ": parameter " + index + " has type " + type.getSimpleName()
                + "; kernels take KernelContext, int, long, float, double, primitive arrays (float[], int[], short[],"
                + " byte[], long[], double[]) and F32Array, F16Array, BF16Array, HalfPrecisionArray, I32Array, I8Array"
                + (type == boolean.class || type == byte.class || type == short.class || type == char.class
                        ? " (pass an int instead)" : ""));
    }

    private static String kernelNames(Class<?> owner) {
        String names = Arrays.stream(owner.getDeclaredMethods()).filter(m -> m.isAnnotationPresent(Kernel.class))
                .map(Method::getName).sorted().collect(Collectors.joining(", "));
        return names.isEmpty() ? "(none)" : names;
    }

    public Method method() {
        return method;
    }

    public String name() {
        return method.getName();
    }

    public Class<?> owner() {
        return method.getDeclaringClass();
    }

    /** All Java parameters, the context included. */
    public List<KernelParameter> parameters() {
        return parameters;
    }

    /** The parameters a caller passes: all but the {@link KernelContext}. */
    public List<KernelParameter> arguments() {
        return arguments;
    }

    /** The kernel's {@link LaunchBounds}, or null where it has none. */
    public LaunchBounds launchBounds() {
        return method.getAnnotation(LaunchBounds.class);
    }

    /** Refuses a grid whose blocks exceed the kernel's {@link LaunchBounds#maxThreads()}. */
    public void checkGrid(Grid grid) {
        LaunchBounds bounds = launchBounds();
        if (bounds != null && grid.threadsPerBlock() > bounds.maxThreads()) {
            throw new IllegalArgumentException(describe() + " is compiled for blocks of at most " + bounds.maxThreads()
                    + " threads (@LaunchBounds), got a block of " + grid.threadsPerBlock() + ": launch it on smaller blocks");
        }
    }

    /** Position of the {@link KernelContext} among the Java parameters, or -1. */
    public int contextIndex() {
        for (KernelParameter p : parameters) {
            if (p.kind() == ParameterKind.CONTEXT) {
                return p.index();
            }
        }
        return -1;
    }

    /** {@code Owner.name(F32Array src, int n)}, for messages. */
    public String describe() {
        return owner().getSimpleName() + "." + name() + "("
                + parameters.stream().map(KernelParameter::describe).collect(Collectors.joining(", ")) + ")";
    }

    /**
     * Checks the primitive arguments of a launch (the array checks depend on where the kernel runs) and
     * returns them unboxed to the parameter types ({@code Integer} is accepted for {@code long} and
     * {@code float} for {@code double}).
     */
    public Object[] checkArguments(Object[] args) {
        if (args.length != arguments.size()) {
            throw new IllegalArgumentException(describe() + " takes " + arguments.size() + " arguments (the KernelContext"
                    + " is supplied by the runtime), got " + args.length);
        }
        Object[] out = new Object[args.length];
        for (int i = 0; i < args.length; i++) {
            KernelParameter p = arguments.get(i);
            Object a = args[i];
            out[i] = switch (p.kind()) {
                case INT -> a instanceof Integer ? a : mismatch(p, a);
                case LONG -> a instanceof Long ? a : a instanceof Integer v ? Long.valueOf(v) : mismatch(p, a);
                case FLOAT -> a instanceof Float ? a : mismatch(p, a);
                case DOUBLE -> a instanceof Double ? a : a instanceof Float v ? Double.valueOf(v) : mismatch(p, a);
                case JAVA_ARRAY, TYPED_ARRAY -> {
                    if (a == null) {
                        throw new IllegalArgumentException("argument " + i + " (" + p.describe() + ") of " + describe()
                                + " is null");
                    }
                    yield a;
                }
                case CONTEXT -> throw new IllegalStateException("the context is not an argument");
            };
        }
        return out;
    }

    private Object mismatch(KernelParameter p, Object a) {
        throw new IllegalArgumentException("argument for " + p.describe() + " of " + describe() + " must be a "
                + p.type().getSimpleName() + ", got " + (a == null ? "null" : a.getClass().getSimpleName() + " " + a));
    }

    @Override
    public String toString() {
        return describe();
    }
}
