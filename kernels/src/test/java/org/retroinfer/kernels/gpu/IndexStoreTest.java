package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Half;

/** {@link IndexStore}'s kernels on the emulator against plain loops, into poisoned outputs. */
class IndexStoreTest {
    @Test
    void gatherVectorsCopiesEachIndexedVectorWhole() {
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(11);
            int vectors = 37, ints = VectorChunks.INTS;
            I32Array source = I32Array.allocate(arena, (long) vectors * ints);
            for (long i = 0; i < source.length(); i++) source.set(i, random.nextInt());
            int[] order = random.ints(0, vectors).distinct().limit(vectors).toArray();
            I32Array index = I32Array.of(arena, order);
            I32Array target = I32Array.allocate(arena, (long) (vectors + 1) * ints);
            target.fill(0xDEAD);
            new Emulator().launch(IndexStore.class, "gatherVectors", IndexStore.vectorGrid(vectors), source, index, vectors, target);
            for (int i = 0; i < vectors; i++) {
                for (int j = 0; j < ints; j++) {
                    assertEquals(source.get((long) order[i] * ints + j), target.get((long) i * ints + j), "vector " + i + " int " + j);
                }
            }
            for (int j = 0; j < ints; j++) assertEquals(0xDEAD, target.get((long) vectors * ints + j), "past the end");
        }
    }

    @Test
    void conversionsRoundAsTheCpuDoes() {
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(12);
            int n = 1000;
            F32Array in = F32Array.allocate(arena, n);
            for (int i = 0; i < n; i++) in.set(i, (float) (random.nextGaussian() * Math.pow(10, random.nextInt(7) - 3)));
            BF16Array bf16 = BF16Array.allocate(arena, n);
            F16Array f16 = F16Array.allocate(arena, n);
            for (int i = 0; i < n; i++) {
                bf16.setBits(i, (short) 0x7FC1);
                f16.setBits(i, (short) 0x7E01);
            }
            Emulator emulator = new Emulator();
            emulator.launch(IndexStore.class, "toBf16", IndexStore.elementGrid(n), in, bf16, (long) n);
            emulator.launch(IndexStore.class, "toF16", IndexStore.elementGrid(n), in, f16, (long) n);
            I32Array counts = I32Array.of(arena, random.ints(n, 0, 1 << 20).toArray());
            F32Array sizes = F32Array.allocate(arena, n);
            sizes.fill(Float.NaN);
            emulator.launch(IndexStore.class, "toF32", IndexStore.elementGrid(n), counts, sizes, n);
            for (int i = 0; i < n; i++) {
                assertEquals(Half.fromFloat(DType.BF16, in.get(i)), bf16.getBits(i), "bf16 of " + in.get(i));
                assertEquals(Half.fromFloat(DType.F16, in.get(i)), f16.getBits(i), "f16 of " + in.get(i));
                assertEquals((float) counts.get(i), sizes.get(i));
            }
        }
    }
}
