package org.retroinfer.accel.compiler;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.accel.examples.ExampleCase;
import org.retroinfer.accel.examples.ExampleCatalog;
import org.retroinfer.accel.examples.Poison;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * Every example kernel through the compiler: the final IR, interpreted on the CPU, still matches the
 * kernel's Java reference (the PTX itself is assembled in {@link AllKernelsAssembleTest}).
 */
class CompiledExamplesTest {
    private static final KernelCompiler COMPILER = new KernelCompiler();

    static Stream<ExampleCase> cases() {
        return Stream.concat(ExampleCatalog.all().stream(), ExampleCatalog.alternativeShapes().stream());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void compiledIrMatchesTheJavaReference(ExampleCase c) {
        long seed = System.nanoTime();
        try (Arena arena = Arena.ofShared()) {
            ExampleCase.Instance instance = c.create(arena, ExampleCase.Scale.forTests(), new Random(seed));
            Poison.outputs(instance);
            for (ExampleCase.Launch l : instance.launches()) {
                KernelMethod k = l.kernel();
                IrInterpreter.run(KernelCompiler.optimizedIr(k, KernelCompiler.constantsOf(k, l.args()),
                        CompileOptions.defaults()), l.grid(), l.args());
            }
            ExampleCase.Check check = instance.check();
            assertTrue(check.ok(), c.name() + " compiled (seed " + seed + "): " + check.detail());
        }
    }
}
