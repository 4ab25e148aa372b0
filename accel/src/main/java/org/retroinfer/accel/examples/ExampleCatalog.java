package org.retroinfer.accel.examples;

import java.util.List;

/** Every example case: what the tests run in the emulator and through ptxas, and what the GPU check times. */
public final class ExampleCatalog {
    private ExampleCatalog() {}

    public static List<ExampleCase> all() {
        return List.of(
                StreamingKernel.COPY_SCALAR.asCase(),
                StreamingKernel.COPY.asCase(),
                StreamingKernel.SUM.asCase(),
                new BandwidthCases.Saxpy(),
                new RowCases.Softmax(),
                new RowCases.MatVec(),
                new RowCases.Transpose(),
                new RowCases.MatmulTensorCores(),
                new CorrectnessCases.Halves(),
                new CorrectnessCases.Histogram(),
                new CorrectnessCases.Semantics());
    }

    /**
     * The alternative streaming shapes ({@link BandwidthShapes}) as cases: the tests check them like every
     * example; the GPU check times them only in its sweep.
     */
    public static List<ExampleCase> alternativeShapes() {
        return StreamingKernel.alternatives().stream().map(StreamingKernel::asCase).toList();
    }
}
