package org.retroinfer.accel.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.accel.emulator.Emulator;

class ExampleKernelsTest {
    static Stream<ExampleCase> cases() {
        return Stream.concat(ExampleCatalog.all().stream(), ExampleCatalog.alternativeShapes().stream());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void exampleKernelMatchesItsJavaReferenceInTheEmulator(ExampleCase c) {
        long seed = System.nanoTime();
        System.out.println(c.name() + " seed " + seed);
        Emulator emulator = new Emulator();
        try (Arena arena = Arena.ofShared()) {
            ExampleCase.Instance instance = c.create(arena, ExampleCase.Scale.forTests(), new Random(seed));
            Poison.outputs(instance);
            for (ExampleCase.Launch l : instance.launches()) {
                emulator.launch(l.kernel(), l.grid(), l.args());
            }
            ExampleCase.Check check = instance.check();
            System.out.println(c.name() + ": " + check.detail());
            assertTrue(check.ok(), c.name() + " (seed " + seed + "): " + check.detail());
        }
    }
}
