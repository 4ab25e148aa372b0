package org.retroinfer.accel.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.accel.examples.ExampleCase;
import org.retroinfer.accel.examples.ExampleCatalog;
import org.retroinfer.accel.examples.Poison;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * Every example kernel through the compiler: the PTX assembles with ptxas for sm_80 and sm_90 (strict and
 * fast math), and the final IR, interpreted on the CPU, still matches the kernel's Java reference.
 */
class CompiledExamplesTest {
    private static final KernelCompiler COMPILER = new KernelCompiler();

    static Stream<ExampleCase> cases() {
        return ExampleCatalog.all().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void ptxAssemblesForAmpereAndHopper(ExampleCase c) {
        if (!Ptxas.available()) {
            System.out.println(Ptxas.missingMessage());
        }
        Assumptions.assumeTrue(Ptxas.available(), Ptxas::missingMessage);
        try (Arena arena = Arena.ofShared()) {
            ExampleCase.Instance instance = c.create(arena, ExampleCase.Scale.forTests(), new Random(1));
            for (ExampleCase.Launch l : instance.launches()) {
                for (CompileOptions o : new CompileOptions[] {new CompileOptions(Target.SM_80, false),
                        new CompileOptions(Target.SM_90, false), new CompileOptions(Target.SM_90, true)}) {
                    CompiledKernel k = COMPILER.compileFor(l.kernel(), l.args(), o);
                    Ptxas.Result r = Ptxas.assemble(k.ptx(), o.target());
                    assertEquals(0, r.exitCode(), () -> k.key().shortName() + " was rejected by ptxas:\n" + r.log()
                            + "\n" + k.ptx());
                    assertTrue(r.log().contains("0 bytes spill stores"), () -> k.key().shortName() + " spills:\n" + r.log());
                }
            }
        }
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
