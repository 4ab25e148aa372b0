package org.retroinfer.accel.examples;

import java.util.List;

/** Every example case: what the tests run in the emulator and through ptxas, and what the GPU check times. */
public final class ExampleCatalog {
    private ExampleCatalog() {}

    public static List<ExampleCase> all() {
        return List.of(
                new BandwidthCases.Copy("copy.scalar", "copyScalar"),
                new BandwidthCases.Copy("copy.float4", "copyVectorized"),
                new BandwidthCases.Sum(),
                new BandwidthCases.Saxpy(),
                new RowCases.Softmax(),
                new RowCases.MatVec(),
                new RowCases.Transpose(),
                new CorrectnessCases.Halves(),
                new CorrectnessCases.Histogram(),
                new CorrectnessCases.Semantics());
    }
}
