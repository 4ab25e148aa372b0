package org.retroinfer.accel.compiler;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.retroinfer.accel.compiler.frontend.ClassBytes;
import org.retroinfer.accel.compiler.frontend.Frontend;
import org.retroinfer.accel.compiler.ir.Function;
import org.retroinfer.accel.compiler.opt.BlockOrder;
import org.retroinfer.accel.compiler.opt.CriticalEdges;
import org.retroinfer.accel.compiler.opt.DeadCode;
import org.retroinfer.accel.compiler.opt.SelectFormation;
import org.retroinfer.accel.compiler.opt.Simplifier;
import org.retroinfer.accel.compiler.opt.SpaceInference;
import org.retroinfer.accel.compiler.opt.StrengthReduction;
import org.retroinfer.accel.compiler.ptx.PtxEmitter;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.KernelParameter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compiles {@link org.retroinfer.accel.kernel.Kernel} methods to PTX: bytecode to SSA (inlining helpers,
 * binding {@code @Constant} parameters), simplification, memory-space inference, PTX emission. Results
 * are cached by {@link CompileKey}, so each specialisation is compiled once per JVM.
 */
public final class KernelCompiler {
    private static final Logger LOG = LoggerFactory.getLogger(KernelCompiler.class);

    private final Map<CompileKey, CompiledKernel> cache = new ConcurrentHashMap<>();

    /** Compiles {@code kernel} with no specialisation (it must have no {@code @Constant} parameters). */
    public CompiledKernel compile(KernelMethod kernel, CompileOptions options) {
        return compile(kernel, Map.of(), options);
    }

    /** Compiles the specialisation of {@code kernel} whose {@code @Constant} parameters take these launch arguments. */
    public CompiledKernel compileFor(KernelMethod kernel, Object[] arguments, CompileOptions options) {
        return compile(kernel, constantsOf(kernel, arguments), options);
    }

    /** Compiles {@code kernel} with {@code constants} (Java parameter index to value) for its {@code @Constant} parameters. */
    public CompiledKernel compile(KernelMethod kernel, Map<Integer, Object> constants, CompileOptions options) {
        for (KernelParameter p : kernel.parameters()) {
            if (p.constant() && !constants.containsKey(p.index())) {
                throw new IllegalArgumentException(kernel.describe() + ": @Constant parameter " + p.describe()
                        + " needs a value to compile against");
            }
            if (p.halfPrecision() && !(constants.get(p.index()) instanceof ElementType t && t.bytes() == 2)) {
                throw new IllegalArgumentException(kernel.describe() + ": parameter " + p.describe()
                        + " needs its element type (F16 or BF16) to compile against, got " + constants.get(p.index()));
            }
        }
        ClassBytes bytes = ClassBytes.of(kernel.owner());
        String method = kernel.name() + java.lang.invoke.MethodType.methodType(void.class,
                kernel.method().getParameterTypes()).toMethodDescriptorString();
        CompileKey key = new CompileKey(bytes.sha256(), kernel.owner().getName(), method, constants, options);
        return cache.computeIfAbsent(key, k -> build(kernel, k));
    }

    /** The values of the {@code @Constant} parameters among launch {@code arguments} (which exclude the context). */
    public static Map<Integer, Object> constantsOf(KernelMethod kernel, Object[] arguments) {
        Map<Integer, Object> constants = new HashMap<>();
        List<KernelParameter> args = kernel.arguments();
        for (int i = 0; i < args.size() && i < arguments.length; i++) {
            if (args.get(i).constant()) {
                constants.put(args.get(i).index(), arguments[i]);
            } else if (args.get(i).halfPrecision() && arguments[i] instanceof HalfPrecisionArray array) {
                constants.put(args.get(i).index(), array.elementType());
            }
        }
        return constants;
    }

    /** Number of distinct specialisations compiled so far. */
    public int cachedCount() {
        return cache.size();
    }

    /** The kernel's IR after every pass, ready for PTX emission (tests interpret it to check the front end). */
    static Function optimizedIr(KernelMethod kernel, Map<Integer, Object> constants, CompileOptions options) {
        Function f = Frontend.translate(kernel, constants, options);
        Simplifier.run(f);
        DeadCode.run(f);
        Simplifier.run(f);
        SelectFormation.run(f);
        StrengthReduction.run(f);
        SpaceInference.run(f);
        CriticalEdges.run(f);
        BlockOrder.run(f);
        return f;
    }

    private static CompiledKernel build(KernelMethod kernel, CompileKey key) {
        long start = System.nanoTime();
        Function f = optimizedIr(kernel, key.constants(), key.options());
        String comment = kernel.describe() + "\nconstants " + key.constants() + ", " + key.options();
        String ptx = PtxEmitter.emit(f, key.options(), comment, kernel.launchBounds());
        CompiledKernel compiled = new CompiledKernel(kernel, key, f.name(), ptx);
        PtxDump.writePtx(compiled);
        LOG.debug("compiled {} in {} ms", key.shortName(), (System.nanoTime() - start) / 1_000_000);
        return compiled;
    }
}
