package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.device.EmulatedDevice;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.TypedArray;

/**
 * {@link KMeansBuild} with several heads at once, on the emulator: each head of a stacked build gets exactly what a
 * build of that head alone gets, whatever the other heads hold, and nothing is read between the heads.
 */
class KMeansBuildTest {
    @Test
    void headsBuiltAtOnceEqualEachBuiltAlone() {
        KMeansShape shape = KMeansShape.of(1100, 24, 3, 2); // two centring chunks, a tail of two keys past the segments
        int heads = 3;
        long stride = shape.keyElements() + 5 * HEAD_DIM; // a gap of five vectors between heads, poisoned
        try (EmulatedDevice device = new EmulatedDevice()) {
            Heads data = Heads.random(device, heads, stride, shape.keyElements(), "stacked k-means heads");
            BF16Array keys = data.keys(), values = data.values();
            try (KMeansBuild alone = new KMeansBuild(device, shape); KMeansBuild stacked = new KMeansBuild(device, shape, 4)) {
                for (TypedArray a : results(stacked)) device.fill(a, (byte) 0xFF);
                stacked.run(keys, values, 0, stride, heads);
                int n = shape.tokens(), c = shape.clusters(), e = (int) shape.centroidElements();
                int[] assignment = ints(device, stacked.assignment()), members = ints(device, stacked.members());
                int[] sizes = ints(device, stacked.sizes()), starts = ints(device, stacked.starts());
                float[] centroids = floats(device, stacked.centroids()), valueSums = floats(device, stacked.valueSums());
                float[] mean = floats(device, stacked.mean());
                for (int h = 0; h < heads; h++) {
                    alone.run(keys, values, h * stride);
                    String head = "head " + h;
                    assertArrayEquals(ints(device, alone.assignment()), Arrays.copyOfRange(assignment, h * n, h * n + n), head);
                    assertArrayEquals(ints(device, alone.members()), Arrays.copyOfRange(members, h * n, h * n + n), head);
                    assertArrayEquals(ints(device, alone.sizes()), Arrays.copyOfRange(sizes, h * c, h * c + c), head);
                    assertArrayEquals(ints(device, alone.starts()), Arrays.copyOfRange(starts, h * c, h * c + c), head);
                    assertArrayEquals(floats(device, alone.centroids()), Arrays.copyOfRange(centroids, h * e, h * e + e), head);
                    assertArrayEquals(floats(device, alone.valueSums()), Arrays.copyOfRange(valueSums, h * e, h * e + e), head);
                    assertArrayEquals(floats(device, alone.mean()),
                            Arrays.copyOfRange(mean, h * HEAD_DIM, h * HEAD_DIM + HEAD_DIM), head);
                }
                // the fourth head's place was not run: it keeps its poison
                assertArrayEquals(filled(n, -1), Arrays.copyOfRange(members, heads * n, heads * n + n), "head 3 not run");
                assertThrows(IllegalArgumentException.class, () -> stacked.run(keys, values, 0, stride, 5), "more heads than held");
                assertThrows(IllegalArgumentException.class, () -> stacked.run(keys, values, stride, stride, heads),
                        "the last head past the arrays");
            }
        }
    }

    /** The tensor cores' assignment changes nothing: every array of the build equals the CUDA cores' bit for bit. */
    @Test
    void aBuildOnTensorCoresEqualsTheBuildOnCudaCores() {
        KMeansShape shape = KMeansShape.of(300, 24, 3, 2);
        int heads = 2;
        long stride = shape.keyElements();
        try (EmulatedDevice device = new EmulatedDevice()) {
            Heads data = Heads.random(device, heads, stride, shape.keyElements(), "k-means on tensor cores");
            BF16Array keys = data.keys(), values = data.values();
            try (KMeansBuild cuda = new KMeansBuild(device, shape, heads, KMeansBuild.Assignment.CUDA_CORES);
                 KMeansBuild tensor = new KMeansBuild(device, shape, heads, KMeansBuild.Assignment.TENSOR_CORES)) {
                cuda.run(keys, values, 0, stride, heads);
                for (TypedArray a : results(tensor)) device.fill(a, (byte) 0xFF);
                tensor.run(keys, values, 0, stride, heads);
                assertArrayEquals(ints(device, cuda.assignment()), ints(device, tensor.assignment()), "assignment");
                assertArrayEquals(ints(device, cuda.members()), ints(device, tensor.members()), "members");
                assertArrayEquals(ints(device, cuda.sizes()), ints(device, tensor.sizes()), "sizes");
                assertArrayEquals(floats(device, cuda.centroids()), floats(device, tensor.centroids()), "centroids");
                assertArrayEquals(floats(device, cuda.valueSums()), floats(device, tensor.valueSums()), "value sums");
            }
        }
    }

    /** Random keys and values of {@code heads} heads {@code stride} elements apart, the keys about head-dependent means. */
    private record Heads(BF16Array keys, BF16Array values) {
        static Heads random(Device device, int heads, long stride, long elements, String name) {
            Random random = SplitKvDecodeTest.random(name);
            BF16Array keys = device.bf16(heads * stride), values = device.bf16(heads * stride);
            upload(device, keys, heads, stride, elements, random, 0.3f);
            upload(device, values, heads, stride, elements, random, 0f);
            return new Heads(keys, values);
        }
    }

    /** {@code heads} rows of random values ({@code offset} added), the gaps between them NaN. */
    private static void upload(Device device, BF16Array array, int heads, long stride, long elements, Random random,
            float offset) {
        float[] host = new float[(int) array.length()];
        Arrays.fill(host, Float.NaN);
        for (int h = 0; h < heads; h++) {
            for (long i = 0; i < elements; i++) host[(int) (h * stride + i)] = (float) random.nextGaussian() + offset * h;
        }
        try (Arena arena = Arena.ofConfined()) {
            BF16Array staging = BF16Array.allocate(arena, array.length());
            staging.copyFrom(host);
            device.upload(staging.segment(), array);
        }
    }

    private static TypedArray[] results(KMeansBuild b) {
        return new TypedArray[] {b.assignment(), b.members(), b.sizes(), b.starts(), b.centroids(), b.valueSums(), b.mean()};
    }

    private static int[] ints(Device device, I32Array a) {
        int[] out = new int[Math.toIntExact(a.length())];
        device.download(a, MemorySegment.ofArray(out));
        return out;
    }

    private static float[] floats(Device device, F32Array a) {
        float[] out = new float[Math.toIntExact(a.length())];
        device.download(a, MemorySegment.ofArray(out));
        return out;
    }

    private static int[] filled(int n, int value) {
        int[] out = new int[n];
        Arrays.fill(out, value);
        return out;
    }
}
