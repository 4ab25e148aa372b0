package org.retroinfer.kernels.gpu;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.retroinfer.accel.kernel.I32Array;

/** The int inputs of the wave-buffer copy tests: random words, poisoned outputs, shuffled block orders. */
record IntArrays(Arena arena, Random random) {
    I32Array random(long n) {
        I32Array a = I32Array.allocate(arena, n);
        for (long i = 0; i < n; i++) a.set(i, random.nextInt());
        return a;
    }

    I32Array filled(long n, int value) {
        I32Array a = I32Array.allocate(arena, n);
        a.fill(value);
        return a;
    }

    /** {@code 0 .. n - 1} in a random order. */
    List<Integer> shuffled(int n) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) order.add(i);
        Collections.shuffle(order, random);
        return order;
    }
}
