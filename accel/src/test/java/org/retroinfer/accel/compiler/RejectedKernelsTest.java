package org.retroinfer.accel.compiler;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.retroinfer.accel.kernel.KernelMethod;

class RejectedKernelsTest {
    private final KernelCompiler compiler = new KernelCompiler();

    static Stream<Arguments> rejections() {
        return Stream.of(
                Arguments.of("allocatesArray", "allocates a Java array", "allocateFloatLocalArray"),
                Arguments.of("allocatesObject", "allocates an object", "Float4"),
                Arguments.of("catchesException", "try/catch", "if statement"),
                Arguments.of("throwsException", "kernels cannot throw exceptions", "output array"),
                Arguments.of("synchronizes", "synchronized", "localBarrier"),
                Arguments.of("readsArrayLength", "array.length", "pass the length as an int parameter"),
                Arguments.of("callsUnsupportedMath", "Math.sin is not available", "KMath"),
                Arguments.of("expOfDouble", "Math.exp of a double", "KMath.exp(float)"),
                Arguments.of("recurses", "recursive call", "as a loop"),
                Arguments.of("writesStaticField", "cannot write fields", "array parameter"),
                Arguments.of("readsMutableStaticField", "not a static final primitive", "parameters"),
                Arguments.of("buildsString", "invokedynamic", "cannot build strings"),
                Arguments.of("usesLambda", "invokedynamic", "lambdas"),
                Arguments.of("sharedArrayOfRuntimeSize", "must be a compile-time constant", "@Constant"),
                Arguments.of("callsTypedArrayLength", "F32Array.length is host-side", "pass the length"),
                Arguments.of("usesFloatRemainder", "floating-point remainder", "x - y"),
                Arguments.of("tooMuchSharedMemory", "to 65536 bytes; statically sized shared memory is limited to 48 KiB",
                        "smaller arrays"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejections")
    void unsupportedConstructIsRefusedWithPositionAndHint(String kernel, String problem, String hint) {
        UnsupportedKernelException e = assertThrows(UnsupportedKernelException.class,
                () -> compiler.compile(KernelMethod.of(RejectedKernels.class, kernel), CompileOptions.defaults()));
        String m = e.getMessage();
        System.out.println(m);
        assertTrue(m.contains("RejectedKernels.java:"), "no source line: " + m);
        assertTrue(m.matches("(?s).*, bci \\d+\\).*"), "no bytecode offset: " + m);
        assertTrue(m.contains("org.retroinfer.accel.compiler.RejectedKernels."), "no class and method: " + m);
        assertTrue(m.contains(problem), "problem not named: " + m);
        assertTrue(m.contains(hint), "no hint: " + m);
    }

    @Test
    void errorsInInlinedHelpersNameTheCallChain() {
        UnsupportedKernelException e = assertThrows(UnsupportedKernelException.class,
                () -> compiler.compile(KernelMethod.of(RejectedKernels.class, "recurses"), CompileOptions.defaults()));
        assertTrue(e.getMessage().contains("RejectedKernels.factorial") && e.getMessage().contains("[inlined into"),
                e.getMessage());
        assertTrue(e.position().line() > 0);
    }

    @Test
    void staticFinalConstantsComputedAtRunTimeAreReadAtCompileTime() {
        String ptx = compiler.compile(KernelMethod.of(RejectedKernels.class, "readsComputedConstant"), CompileOptions.defaults()).ptx();
        assertTrue(ptx.contains("0f3F000000"), ptx);
    }
}
