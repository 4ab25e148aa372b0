package org.retroinfer.kvstore.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.device.EmulatedDevice;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.I32Array;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.kernels.gpu.IndexStore;
import org.retroinfer.kvstore.wave.StoreFormat;

class QuantisedStoreWriterTest {
    private static final int HEAD_DIM = 128;

    /** Chunks of 3 over 10 members: every chunk lands at its own place, nothing outside the range is touched. */
    @Test
    void chunkedInt8WritesEqualOneQuantisedGatherIntoTheStore() {
        check(StoreFormat.INT8);
    }

    @Test
    void chunkedInt4WritesEqualOneQuantisedGatherIntoTheStore() {
        check(StoreFormat.INT4);
    }

    private static void check(StoreFormat format) {
        long seed = Long.getLong("retroinfer.test.seed", System.nanoTime());
        System.out.println("quantised store writer: seed " + seed + " (replay with -Dretroinfer.test.seed=" + seed + ")");
        Random random = new Random(seed);
        int sourceVectors = 12, n = 10, storeVectors = 16;
        long at = 2;
        try (EmulatedDevice device = new EmulatedDevice()) {
            BF16Array source = device.bf16((long) sourceVectors * HEAD_DIM);
            float[] values = new float[sourceVectors * HEAD_DIM];
            for (int i = 0; i < values.length; i++) values[i] = (float) (random.nextGaussian() * (1 + i % 7));
            BF16Array host = BF16Array.allocate(java.lang.foreign.Arena.ofAuto(), values.length);
            for (int i = 0; i < values.length; i++) host.set(i, values[i]);
            device.upload(host.segment(), source);
            int[] order = random.ints(0, sourceVectors).distinct().limit(n).toArray();
            I32Array members = device.i32(n);
            device.upload(MemorySegment.ofArray(order), members);
            int ints = format.ints(), perVector = format.scaleInts();
            I32Array store = mapped(device, (long) storeVectors * ints);
            I32Array scales = mapped(device, (long) storeVectors * perVector);
            I32Array expected = mapped(device, (long) storeVectors * ints);
            I32Array expectedScales = mapped(device, (long) storeVectors * perVector);

            QuantisedStoreWriter writer = new QuantisedStoreWriter(device, format, 3);
            writer.write(source, members, n, store, scales, at);
            device.launch(KernelMethod.of(IndexStore.class, format == StoreFormat.INT4 ? "gatherQuantizedInt4" : "gatherQuantized"),
                    IndexStore.vectorGrid(n), source, members, n, expected.slice(at * ints, (long) n * ints),
                    expectedScales.slice(at * perVector, (long) n * perVector));
            device.synchronize();
            writer.free();

            assertEquals(-1, store.segment().mismatch(expected.segment()), format + " vectors");
            assertEquals(-1, scales.segment().mismatch(expectedScales.segment()), format + " scales");
            for (long i = 0; i < (long) storeVectors * perVector; i++) {
                boolean inside = i >= at * perVector && i < (at + n) * perVector;
                assertEquals(!inside, scales.get(i) == -1, "scale int " + i + (inside ? " written" : " poisoned still"));
            }
        }
    }

    /** A mapped host array poisoned with 0xFF bytes (NaN scales, F32 or BF16), as a host tier before its clusters come. */
    private static I32Array mapped(EmulatedDevice device, long length) {
        I32Array array = (I32Array) device.mapped(ElementType.I32, length);
        array.segment().fill((byte) 0xFF);
        return array;
    }
}
