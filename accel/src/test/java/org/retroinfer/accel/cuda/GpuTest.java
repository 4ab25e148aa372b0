package org.retroinfer.accel.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.compiler.Target;
import org.retroinfer.accel.examples.CopyKernels;
import org.retroinfer.accel.examples.RowKernels;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;

/** The runtime against the mock driver: marshalling, memory, copies, launches and graphs. */
class GpuTest {
    private static final long SEED = System.nanoTime();
    private Gpu gpu;
    private MockLog log;

    @BeforeEach
    void open() {
        gpu = Gpu.open(CudaDriver.load(MockNatives.libcuda().toString()), 0, false);
        log = new MockLog();
        log.clear();
    }

    @AfterEach
    void close() {
        gpu.close();
    }

    @Test
    void deviceInfoPicksTheCompileTarget() {
        assertEquals("MockGPU (no execution)", gpu.info().name());
        assertEquals(132, gpu.info().multiprocessors());
        assertEquals(Target.SM_90, gpu.compileOptions().target());
    }

    @Test
    void streamingGridIsWavesTimesTheBlocksThatFitAtOnce() {
        LoadedKernel k = gpu.load(KernelMethod.of(CopyKernels.class, "copyVectorized"));
        // the mock fits 2048 / blockSize blocks on each of its 132 SMs
        assertEquals(Grid.of(132 * 8 * 3, 256), gpu.streamingGrid(k, 256, 3));
        assertEquals(Grid.of(132 * 2, 1024), gpu.streamingGrid(k, 1024, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> gpu.streamingGrid(k, 256, 0));
        assertTrue(e.getMessage().contains("waves"), e.getMessage());
    }

    @Test
    void dataRoundTripsThroughDeviceAndPinnedMemory() {
        System.out.println("seed " + SEED);
        Random r = new Random(SEED);
        float[] values = new float[1000];
        for (int i = 0; i < values.length; i++) {
            values[i] = r.nextFloat();
        }
        try (Arena arena = Arena.ofConfined()) {
            F32Array host = F32Array.of(arena, values);
            F32Array device = gpu.allocate(4000).asF32();
            F32Array deviceCopy = gpu.allocate(4000).asF32();
            F32Array pinned = gpu.allocatePinned(4000).asF32();
            pinned.fill(Float.NaN);
            CudaStream s = gpu.defaultStream();
            gpu.copy(host, device, s);
            gpu.copy(device, deviceCopy, s);
            gpu.copy(deviceCopy, pinned, s);
            s.synchronize();
            assertArrayEquals(values, pinned.toArray());
        }
    }

    @Test
    void launchesPassEveryArgumentInPtxOrder() {
        F32Array src = gpu.allocate(4096).asF32();
        F32Array dst = gpu.allocate(4096).asF32();
        gpu.launch(KernelMethod.of(CopyKernels.class, "copyVectorized"), Grid.of(4, 128), gpu.defaultStream(), src, dst, 1003L);
        String expected = "copyVectorized grid(4,1,1) block(128,1,1) u64:0x" + Long.toHexString(src.deviceAddress())
                + " u64:0x" + Long.toHexString(dst.deviceAddress()) + " s64:1003";
        assertEquals(expected, log.launches().strip());
    }

    @Test
    void constantArgumentsSelectASpecialisationAndAreStillPassed() {
        var w = gpu.allocate(2 * 64 * 512).asBF16();
        F32Array x = gpu.allocate(4 * 512).asF32();
        F32Array y = gpu.allocate(4 * 64).asF32();
        KernelMethod k = KernelMethod.of(RowKernels.class, "matVecBf16");
        gpu.launch(k, Grid.of(8, 256), gpu.defaultStream(), w, x, y, 64, 512);
        assertTrue(gpu.load(k, w, x, y, 64, 512).name().contains("-p5=512"));
        assertTrue(log.launches().strip().endsWith("s32:64 s32:512"), log.launches());
    }

    @Test
    void hostArraysAreRefusedAsKernelArgumentsWithTheParameterName() {
        try (Arena arena = Arena.ofConfined()) {
            F32Array host = F32Array.allocate(arena, 16);
            F32Array dst = gpu.allocate(64).asF32();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> gpu.launch(
                    KernelMethod.of(CopyKernels.class, "copyScalar"), Grid.of(1, 32), gpu.defaultStream(), host, dst, 16L));
            assertTrue(e.getMessage().contains("F32Array src") && e.getMessage().contains("host memory")
                    && e.getMessage().contains("cannot read"), e.getMessage());
        }
    }

    @Test
    void largePinnedBuffersAreRegisteredHugePagesThatTheMappedAddressReads() {
        long bytes = PinnedBuffer.HUGE_PAGES_FROM + 12_344; // not a whole number of huge pages
        int before = log.registeredRanges();
        try (PinnedBuffer small = gpu.allocatePinned(4096); PinnedBuffer large = gpu.allocatePinned(bytes)) {
            assertEquals(PinnedBuffer.Source.DRIVER, small.source());
            assertEquals(PinnedBuffer.Source.HUGE_PAGES, large.source());
            assertEquals(before + 1, log.registeredRanges());
            MemorySegment host = large.pinned().hostSegment();
            assertEquals(bytes, host.byteSize());
            assertEquals(0, host.address() % (2 << 20), "aligned to a huge page");
            Random r = new Random(SEED);
            byte[] values = new byte[(int) bytes];
            r.nextBytes(values);
            MemorySegment.copy(MemorySegment.ofArray(values), 0, host, 0, bytes);
            // through the mapped address, as kernels read it, into device memory and back
            DeviceBuffer device = gpu.allocate(bytes);
            gpu.driver().fillBytes(device.region().deviceAddress(), (byte) 0, bytes, gpu.defaultStream().handle());
            gpu.driver().copyDeviceToDevice(device.region().deviceAddress(), large.mapped().deviceAddress(), bytes,
                    gpu.defaultStream().handle());
            byte[] back = new byte[(int) bytes];
            gpu.copy(device.asI8(), MemorySegment.ofArray(back), gpu.defaultStream());
            assertArrayEquals(values, back);
        }
        assertEquals(before, log.registeredRanges(), "closing unregisters the pages");
    }

    @Test
    void mappedPinnedMemoryIsPassedAtItsDeviceAddress() {
        PinnedBuffer pinned = gpu.allocatePinned(4096);
        F32Array mapped = F32Array.view(pinned.mapped());
        F32Array dst = gpu.allocate(4096).asF32();
        gpu.launch(KernelMethod.of(CopyKernels.class, "copyScalar"), Grid.of(1, 32), gpu.defaultStream(), mapped, dst, 1024L);
        assertTrue(log.launches().contains("u64:0x" + Long.toHexString(mapped.deviceAddress())), log.launches());
    }

    @Test
    void aCapturedGraphReplaysItsCopiesAndLaunches() {
        try (Arena arena = Arena.ofConfined()) {
            F32Array host = F32Array.of(arena, 1f, 2f, 3f, 4f);
            F32Array a = gpu.allocate(16).asF32();
            F32Array b = gpu.allocate(16).asF32();
            F32Array back = gpu.allocatePinned(16).asF32();
            CudaStream s = gpu.createStream();
            KernelMethod copy = KernelMethod.of(CopyKernels.class, "copyScalar");
            gpu.load(copy, a, b, 4L);
            try (CudaGraph graph = CudaGraph.capture(gpu, s, () -> {
                gpu.copy(host, a, s);
                gpu.launch(copy, Grid.of(1, 32), s, a, b, 4L);
                gpu.copy(a, b, s);
                gpu.copy(b, back, s);
            })) {
                assertEquals("", log.launches(), "nothing runs while capturing");
                back.fill(0f);
                graph.launch(s);
                graph.launch(s);
                s.synchronize();
            }
            assertArrayEquals(new float[] {1f, 2f, 3f, 4f}, back.toArray());
            assertEquals(2, log.launches().lines().count());
        }
    }

    @Test
    void timingEventsMeasureElapsedTime() {
        CudaEvent start = gpu.createEvent();
        CudaEvent end = gpu.createEvent();
        start.record(gpu.defaultStream());
        end.record(gpu.defaultStream());
        assertTrue(end.millisSince(start) >= 0);
    }

    @Test
    void closingTheGpuFreesWhatItOwns() {
        DeviceBuffer b = gpu.allocate(64);
        gpu.close();
        assertThrows(IllegalStateException.class, b::region);
        gpu = Gpu.open(CudaDriver.load(MockNatives.libcuda().toString()), 0, false);
    }

    @Test
    void javaArrayBytesCanBeCopiedToAndFromTheDevice() {
        long[] values = {1, -2, 3L << 40};
        F32Array device = gpu.allocate(24).asF32();
        gpu.copy(MemorySegment.ofArray(values), device, gpu.defaultStream());
        long[] back = new long[3];
        gpu.copy(device, MemorySegment.ofArray(back), gpu.defaultStream());
        gpu.defaultStream().synchronize();
        assertArrayEquals(values, back);
    }
}
