package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.device.EmulatedDevice;
import org.retroinfer.accel.kernel.BF16Array;

/**
 * {@link KMeansGpuCheck}'s checks, run on the emulator at a small shape (258 keys: four segments of 64 and a tail of
 * two, 32 clusters, 3 iterations), pass on a correct build and fail when the device's values are not the ones the
 * check was given: the GPU's time is not spent on a check that cannot pass or cannot fail.
 */
class KMeansGpuCheckTest {
    @Test
    void checksPassOnACorrectBuildAndFailOnWrongValues() {
        KMeansShape shape = KMeansShape.of(258, 32, 4, 3);
        try (EmulatedDevice device = new EmulatedDevice(); Arena arena = Arena.ofShared()) {
            Random random = SplitKvDecodeTest.random("k-means gpu check");
            long head = shape.keyElements();
            BF16Array hostKeys = KMeansGpuCheck.clusteredKeys(arena, shape, random);
            BF16Array hostValues = BF16Array.allocate(arena, head);
            for (long i = 0; i < head; i++) hostValues.set(i, (float) random.nextGaussian());
            BF16Array keys = device.bf16(2 * head);
            BF16Array values = device.bf16(2 * head);
            for (int h = 0; h < 2; h++) {
                device.upload(hostKeys.segment(), keys.slice(h * head, head));
                device.upload(hostValues.segment(), values.slice(h * head, head));
            }
            try (KMeansBuild build = new KMeansBuild(device, shape, 1, KMeansBuild.Assignment.CUDA_CORES);
                 KMeansBuild stacked = new KMeansBuild(device, shape, 2, KMeansBuild.Assignment.CUDA_CORES)) {
                assertTrue(KMeansGpuCheck.checkBuild(device, build, hostKeys, hostValues, keys, values, head));
                assertTrue(KMeansGpuCheck.checkAssignment(device, build, random, 1, shape.tokens(), shape.clusters()));
                assertTrue(KMeansGpuCheck.checkAssignment(device, build, random, shape.segments(), shape.perSegment(),
                        shape.clustersPerSegment()));
                BF16Array otherValues = BF16Array.allocate(arena, head);
                for (long i = 0; i < head; i++) otherValues.set(i, hostValues.get(i) + 1f);
                assertFalse(KMeansGpuCheck.checkBuild(device, build, hostKeys, otherValues, keys, values, head));
                assertTrue(KMeansGpuCheck.checkStacked(device, build, stacked, keys, values, head));
                try (KMeansBuild tensor = new KMeansBuild(device, shape, 2, KMeansBuild.Assignment.TENSOR_CORES)) {
                    assertTrue(KMeansGpuCheck.checkSameBuild(device, stacked, tensor, keys, values, head));
                }
            }
        }
    }
}
