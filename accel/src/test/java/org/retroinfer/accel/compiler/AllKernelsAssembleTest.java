package org.retroinfer.accel.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.accel.examples.BandwidthShapes;
import org.retroinfer.accel.examples.CopyKernels;
import org.retroinfer.accel.examples.ElementwiseKernels;
import org.retroinfer.accel.examples.MatmulKernels;
import org.retroinfer.accel.examples.ReductionKernels;
import org.retroinfer.accel.examples.RowKernels;
import org.retroinfer.accel.examples.SemanticsKernel;
import org.retroinfer.accel.examples.TransposeKernel;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.KernelParameter;

/**
 * Every kernel of the module (examples and test kernels, all but the deliberately rejected ones) compiles
 * to PTX that ptxas assembles, without register spills, for sm_80 and sm_90 (strict and fast math) and
 * sm_120.
 */
class AllKernelsAssembleTest {
    private static final KernelCompiler COMPILER = new KernelCompiler();
    /** Ampere and Hopper with Java semantics, Hopper with fast math, and Blackwell (PTX 8.7). */
    private static final CompileOptions[] OPTIONS = {new CompileOptions(Target.SM_80, false),
            new CompileOptions(Target.SM_90, false), new CompileOptions(Target.SM_90, true), new CompileOptions(Target.SM_120, false)};

    static Stream<KernelMethod> kernels() throws ClassNotFoundException {
        Class<?>[] owners = {CopyKernels.class, ReductionKernels.class, BandwidthShapes.class, ElementwiseKernels.class, MatmulKernels.class, RowKernels.class,
                TransposeKernel.class, SemanticsKernel.class, CompilerTestKernels.class,
                Class.forName("org.retroinfer.accel.emulator.EmulatorTestKernels")};
        return Arrays.stream(owners).flatMap(c -> Arrays.stream(c.getDeclaredMethods()))
                .filter(m -> m.isAnnotationPresent(Kernel.class)).sorted(java.util.Comparator.comparing(Method::toString))
                .map(KernelMethod::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void kernelAssemblesForEveryTarget(KernelMethod kernel) {
        if (!Ptxas.available()) {
            System.out.println(Ptxas.missingMessage());
        }
        Assumptions.assumeTrue(Ptxas.available(), Ptxas::missingMessage);
        Map<Integer, Object> constants = new HashMap<>();
        for (KernelParameter p : kernel.parameters()) {
            if (p.constant()) {
                constants.put(p.index(), 64);
            } else if (p.halfPrecision()) {
                constants.put(p.index(), ElementType.F16);
            }
        }
        List<CompiledKernel> compiled = Arrays.stream(OPTIONS).map(o -> COMPILER.compile(kernel, constants, o)).toList();
        List<Ptxas.Result> results = Ptxas.assembleAll(compiled);
        for (int i = 0; i < compiled.size(); i++) {
            CompiledKernel k = compiled.get(i);
            Ptxas.Result r = results.get(i);
            assertEquals(0, r.exitCode(), () -> k.key().shortName() + " was rejected by ptxas:\n" + r.log() + "\n" + k.ptx());
            assertTrue(r.log().contains("0 bytes spill stores"), () -> k.key().shortName() + " spills registers:\n" + r.log());
        }
    }
}
