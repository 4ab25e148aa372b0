package org.retroinfer.kernels.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.accel.compiler.CompileOptions;
import org.retroinfer.accel.compiler.CompiledKernel;
import org.retroinfer.accel.compiler.KernelCompiler;
import org.retroinfer.accel.compiler.Ptxas;
import org.retroinfer.accel.compiler.Target;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.accel.kernel.KernelParameter;

/**
 * Every {@code @Kernel} of this package compiles to PTX that ptxas assembles without register spills for
 * sm_80 and sm_90 (Java semantics) and sm_90 with fast math, at the GQA group sizes models use (accel's
 * AllKernelsAssembleTest does the same for accel's own kernels). The kernels are found by reflection;
 * {@link #theGpuKernelsAreAllFound} pins the list, so a renamed or dropped variant is noticed.
 */
class GpuKernelsAssembleTest {
    private static final KernelCompiler COMPILER = new KernelCompiler();
    private static final CompileOptions[] OPTIONS = {new CompileOptions(Target.SM_80, false),
            new CompileOptions(Target.SM_90, false), new CompileOptions(Target.SM_90, true)};
    /** Values for {@code @Constant} parameters (the GQA group): 1, 4 and 8, and 3, which leaves threads idle. */
    private static final int[] GROUPS = {1, 3, 4, 8};

    static Stream<Arguments> kernels() {
        return Stream.of(SplitKvDecode.class, SplitKvMerge.class, CentroidScoring.class, ClusterTopK.class, ChunkedClusterTopK.class,
                        ExecutionBufferGather.class, CacheAdmission.class, EstimationGather.class, RmsNorm.class, RopeRotation.class,
                        SwiGlu.class, ResidualAdd.class, KvAppend.class, EmbeddingLookup.class, StreamingLinear.class, TiledLinear.class,
                        TensorCoreLinear.class, TensorCoreGemm.class, FlashPrefill.class,
                        RandomFill.class, RowArgmax.class, ClusterLookup.class,
                        KMeansCentring.class, KMeansAssign.class, KMeansTensorAssign.class, KMeansUpdate.class, IndexStore.class,
                        LinearParts.class, StoreDecode.class)
                .flatMap(c -> Arrays.stream(c.getDeclaredMethods()))
                .filter(m -> m.isAnnotationPresent(Kernel.class)).map(KernelMethod::of)
                .flatMap(k -> k.parameters().stream().anyMatch(KernelParameter::constant)
                        ? Arrays.stream(GROUPS).mapToObj(g -> Arguments.of(k, g)) : Stream.of(Arguments.of(k, 0)));
    }

    @Test
    void theGpuKernelsAreAllFound() {
        assertEquals(Set.of("partials", "partialsWeighted", "partialsWeightedIndexed", "partialsWeightedIndexedInt8", "partialsScoredIndexed", "partialsScoredIndexedInt8", "rows", "rowsAfterResidual", "merge", "half", "bf16", "bf16Stacked", "f32", "mergeWithPrevious",
                "logitsHalf", "logitsF32", "logitsInt8", "select", "scoreClusters", "countDigits", "countTies", "compactZones", "gather", "admit", "heads", "halves", "adjacent", "apply", "add", "into",
                "fromHalf", "fromF32", "keySums", "centre", "nearest", "seedCentroids", "rank", "tileOffsets", "clusterStarts",
                "scatter", "means", "valueSums", "uncentre", "gatherVectors", "toHalf", "toF32", "gatherQuantized",
                "gatherQuantizedInt4", "toInt8", "toInt8Centroids", "gatherInt8Bf16", "gatherInt8F16", "gatherInt4Bf16",
                "gatherInt4F16", "lookUp", "lookUpLong", "update", "split", "candidates", "refine", "toParts",
                "sumParts", "gatedParts", "partialsBf16", "partialsF16", "partialsInt8Bf16", "partialsInt8F16",
                "partialsInt4Bf16", "partialsInt4F16"),
                kernels().map(a -> ((KernelMethod) a.get()[0]).name()).collect(Collectors.toSet()));
    }

    @ParameterizedTest(name = "{0} group {1}")
    @MethodSource("kernels")
    void kernelAssemblesWithoutSpills(KernelMethod kernel, int group) {
        Assumptions.assumeTrue(Ptxas.available(), Ptxas::missingMessage);
        boolean half = kernel.parameters().stream().anyMatch(KernelParameter::halfPrecision);
        List<CompiledKernel> compiled = new ArrayList<>();
        for (ElementType type : half ? List.of(ElementType.F16, ElementType.BF16) : List.of(ElementType.F32)) {
            Map<Integer, Object> constants = new HashMap<>();
            for (KernelParameter p : kernel.parameters()) {
                if (p.constant()) {
                    constants.put(p.index(), group);
                } else if (p.halfPrecision()) {
                    constants.put(p.index(), type);
                }
            }
            for (CompileOptions o : OPTIONS) {
                compiled.add(COMPILER.compile(kernel, constants, o));
            }
        }
        List<Ptxas.Result> results = Ptxas.assembleAll(compiled);
        for (int i = 0; i < compiled.size(); i++) {
            CompiledKernel k = compiled.get(i);
            Ptxas.Result r = results.get(i);
            assertEquals(0, r.exitCode(), () -> k.key().shortName() + " was rejected by ptxas:\n" + r.log());
            assertTrue(r.log().contains("0 bytes spill stores"), () -> k.key().shortName() + " spills registers:\n" + r.log());
            r.log().lines().filter(l -> l.contains("Used")).forEach(l -> System.out.println(k.key().shortName() + ": " + l.strip()));
        }
    }
}
