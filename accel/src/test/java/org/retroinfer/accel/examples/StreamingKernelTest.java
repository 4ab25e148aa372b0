package org.retroinfer.accel.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.accel.emulator.Emulator;

/**
 * Every kernel the bandwidth sweep times is right for every grid the sweep may give it: tiny and odd
 * grids, sizes that end exactly on a tile or a stride and sizes that leave partial tiles and a tail.
 */
class StreamingKernelTest {
    static List<StreamingKernel> kernels() {
        return StreamingKernel.sweep();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void streamingKernelMatchesItsReferenceOnAnyGrid(StreamingKernel k) {
        long seed = System.nanoTime();
        Random r = new Random(seed);
        Emulator emulator = new Emulator();
        ExampleCase c = k.asCase();
        for (ExampleCase.Scale scale : List.of(new ExampleCase.Scale(64, 1, 32), new ExampleCase.Scale(4093, 1, 32),
                new ExampleCase.Scale(4093, 3, 64), new ExampleCase.Scale(5000, 5, 96), new ExampleCase.Scale(6141, 2, 128))) {
            try (Arena arena = Arena.ofShared()) {
                ExampleCase.Instance instance = c.create(arena, scale, r);
                Poison.outputs(instance);
                for (ExampleCase.Launch l : instance.launches()) {
                    emulator.launch(l.kernel(), l.grid(), l.args());
                }
                ExampleCase.Check check = instance.check();
                assertTrue(check.ok(), k.name() + " at " + scale + " (seed " + seed + "): " + check.detail());
            }
        }
    }
}
