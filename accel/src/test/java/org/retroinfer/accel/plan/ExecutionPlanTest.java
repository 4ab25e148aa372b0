package org.retroinfer.accel.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.retroinfer.accel.cuda.Cublas;
import org.retroinfer.accel.cuda.CudaDriver;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.cuda.MockLog;
import org.retroinfer.accel.cuda.MockNatives;
import org.retroinfer.accel.examples.CopyKernels;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.Grid;

/** Execution plans against the mock driver, whose copies move real bytes and whose launches are logged. */
class ExecutionPlanTest {
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
    void tasksRunInOrderAndFirstExecutionTransfersOnlyOnce() {
        F32Array weightsHost = gpu.allocatePinned(16).asF32();
        F32Array inputHost = gpu.allocatePinned(16).asF32();
        F32Array output = gpu.allocatePinned(32).asF32();
        F32Array weights = gpu.allocate(16).asF32();
        F32Array input = gpu.allocate(16).asF32();
        F32Array result = gpu.allocate(32).asF32();
        weightsHost.copyFrom(new float[] {1, 2, 3, 4});
        inputHost.copyFrom(new float[] {5, 6, 7, 8});
        try (ExecutionPlan plan = new TaskGraph("step")
                .transferToDevice(TransferMode.FIRST_EXECUTION, weightsHost, weights)
                .transferToDevice(TransferMode.EVERY_EXECUTION, inputHost, input)
                .task("step.copy", CopyKernels.class, "copyScalar", Grid.of(1, 32), input, result, 4L)
                .copy("step.weights", weights, result.slice(4, 4))
                .copy("step.input", input, result.slice(0, 4))
                .transferToHost(result, output)
                .build(gpu)) {
            assertEquals(List.of("step.toDevice0", "step.toDevice1", "step.copy", "step.weights", "step.input", "step.toHost5"),
                    plan.taskNames());
            plan.execute();
            assertArrayEquals(new float[] {5, 6, 7, 8, 1, 2, 3, 4}, output.toArray());
            weightsHost.copyFrom(new float[] {-1, -1, -1, -1});
            inputHost.copyFrom(new float[] {9, 9, 9, 9});
            plan.execute();
            assertArrayEquals(new float[] {9, 9, 9, 9, 1, 2, 3, 4}, output.toArray(), "weights were sent only once");
            assertEquals(2, log.launches().lines().filter(l -> l.startsWith("copyScalar")).count());
        }
    }

    @Test
    void aGraphPlanCapturesOnceAndReplays() {
        F32Array inputHost = gpu.allocatePinned(16).asF32();
        F32Array output = gpu.allocatePinned(16).asF32();
        F32Array device = gpu.allocate(16).asF32();
        try (ExecutionPlan plan = new TaskGraph("graph")
                .transferToDevice(TransferMode.EVERY_EXECUTION, inputHost, device)
                .task("graph.copy", CopyKernels.class, "copyVectorized", Grid.of(2, 64), device, device, 4L)
                .transferToHost(device, output)
                .build(gpu)
                .withCudaGraph()) {
            for (int i = 0; i < 3; i++) {
                inputHost.copyFrom(new float[] {i, i, i, i});
                plan.execute();
                assertArrayEquals(new float[] {i, i, i, i}, output.toArray());
            }
            assertEquals(3, log.launches().lines().count());
            assertTrue(plan.executeTimed() >= 0);
        }
    }

    @Test
    void graphsRefuseTransfersFromPageableMemory() {
        try (Arena arena = Arena.ofConfined()) {
            F32Array pageable = F32Array.allocate(arena, 4);
            F32Array device = gpu.allocate(16).asF32();
            ExecutionPlan plan = new TaskGraph("bad").transferToDevice(TransferMode.EVERY_EXECUTION, pageable, device).build(gpu);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, plan::withCudaGraph);
            assertTrue(e.getMessage().contains("must be pinned"), e.getMessage());
            plan.close();
        }
    }

    @Test
    void badKernelArgumentsFailWhenThePlanIsBuiltAndNameTheTask() {
        F32Array device = gpu.allocate(16).asF32();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TaskGraph("bad")
                .task("bad.copy", CopyKernels.class, "copyScalar", Grid.of(1, 32), device, device, 4f)
                .build(gpu));
        assertTrue(e.getMessage().contains("task bad.copy of plan bad") && e.getMessage().contains("long n"), e.getMessage());
    }

    @Test
    void blasTasksRunOnThePlansStream() {
        try (Cublas blas = Cublas.create(gpu, MockNatives.libcublas().toString())) {
            F32Array x = gpu.allocatePinned(8).asF32();
            F32Array w = gpu.allocatePinned(16).asF32();
            F32Array y = gpu.allocatePinned(16).asF32();
            F32Array dx = gpu.allocate(8).asF32();
            F32Array dw = gpu.allocate(16).asF32();
            F32Array dy = gpu.allocate(16).asF32();
            x.copyFrom(new float[] {1, 2});
            w.copyFrom(new float[] {1, 0, 0, 1});
            try (ExecutionPlan plan = new TaskGraph("mlp")
                    .transferToDevice(TransferMode.EVERY_EXECUTION, x, dx)
                    .transferToDevice(TransferMode.FIRST_EXECUTION, w, dw)
                    .linear("mlp.linear", 1, 2, 2, dx, dw, dy)
                    .transferToHost(dy, y)
                    .build(gpu, blas)) {
                plan.execute();
                assertArrayEquals(new float[] {1, 2}, new float[] {y.get(0), y.get(1)});
            }
        }
    }
}
