package org.retroinfer.accel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.accel.cuda.CudaDriver;
import org.retroinfer.accel.cuda.Cublas;
import org.retroinfer.accel.cuda.MockNatives;
import org.retroinfer.accel.examples.ExampleCase;
import org.retroinfer.accel.examples.ExampleCatalog;

/**
 * The GPU check's plumbing against the mock driver (which runs copies but not kernels, so the kernel checks
 * fail there): every check must appear in the JSON report and failures must give exit status 1.
 */
class GpuCheckTest {
    @Test
    void reportHasEveryCheckAndFailuresSetTheExitStatus(@TempDir Path dir) throws Exception {
        System.setProperty(CudaDriver.LIBRARY_PROPERTY, MockNatives.libcuda().toString());
        System.setProperty(Cublas.LIBRARY_PROPERTY, MockNatives.libcublas().toString());
        Path out = dir.resolve("gpu-check.json");
        int status;
        try {
            status = GpuCheck.run(new String[] {"--out", out.toString(), "--size-mib", "16", "--reps", "3", "--gemm-n", "32",
                    "--gemv-n", "64", "--seed", "7"});
        } finally {
            System.clearProperty(Cublas.LIBRARY_PROPERTY);
            System.clearProperty(CudaDriver.LIBRARY_PROPERTY);
        }
        assertEquals(1, status, "kernels do not run on the mock, so their checks fail");
        String json = Files.readString(out);
        for (String key : new String[] {"\"deviceCopy\"", "\"brokenPtxRejected\"", "cublasGemmEx.bf16.32", "cublasSgemv.64",
                "\"graph\"", "\"percentOfDeviceCopy\"", "\"registers\""}) {
            assertTrue(json.contains(key), key + " missing from " + json);
        }
        for (ExampleCase c : ExampleCatalog.all()) {
            assertTrue(json.contains("\"" + c.name() + "\""), c.name() + " missing");
        }
    }

    @Test
    void sweepOptionIsParsed() {
        assertTrue(GpuCheck.Options.parse(new String[] {"--out", "x.json", "--sweep"}).sweep());
        assertFalse(GpuCheck.Options.parse(new String[] {"--out", "x.json"}).sweep());
    }

    @Test
    void missingOutputPathIsAUsageError() {
        assertEquals(2, GpuCheck.run(new String[] {"--reps", "5"}));
    }
}
