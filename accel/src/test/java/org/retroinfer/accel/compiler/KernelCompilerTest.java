package org.retroinfer.accel.compiler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.accel.emulator.Emulator;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;

class KernelCompilerTest {
    private final KernelCompiler compiler = new KernelCompiler();

    private String ptx(String kernel, CompileOptions options) {
        return compiler.compile(KernelMethod.of(CompilerTestKernels.class, kernel), options).ptx();
    }

    @Test
    void strictModeRoundsEveryFloatOperationSoPtxasCannotContractThem() {
        String strict = ptx("floatArithmetic", CompileOptions.defaults());
        assertTrue(strict.contains("mul.rn.f32") && strict.contains("add.rn.f32") && strict.contains("div.rn.f32"), strict);
        String fast = ptx("floatArithmetic", CompileOptions.defaults().withFastMath(true));
        assertTrue(fast.contains("mul.f32") && fast.contains("add.f32") && fast.contains("div.full.f32"), fast);
        assertFalse(fast.contains(".rn.f32"), fast);
    }

    @Test
    void variableShiftCountsAreMaskedAsInJava() {
        String ptx = ptx("variableShift", CompileOptions.defaults());
        assertTrue(ptx.contains("and.b32") && ptx.contains(", 31;") && ptx.contains("shr.u32"), ptx);
    }

    @Test
    void launchBoundsBecomeEntryDirectivesAndRefuseLargerBlocks() {
        String ptx = ptx("bounded", CompileOptions.defaults());
        assertTrue(ptx.contains(".maxntid 128, 1, 1\n.minnctapersm 4\n{"), ptx);
        assertFalse(ptx("javaMax", CompileOptions.defaults()).contains(".maxntid"));
        KernelMethod k = KernelMethod.of(CompilerTestKernels.class, "bounded");
        float[] a = new float[256];
        new Emulator().launch(k, Grid.of(2, 128), (Object) a);
        assertEquals(1f, a[255]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Emulator().launch(k, Grid.of(1, 256), (Object) a));
        assertTrue(e.getMessage().contains("at most 128 threads"), e.getMessage());
    }

    /**
     * {@code KMath.dp4a} is one {@code dp4a.s32.s32}, and on the CPU it sums the four signed byte products: checked on
     * extreme bytes (-128 · -128 four times overflows no int) and random words against a loop over the bytes.
     */
    @Test
    void dp4aIsOneInstructionAndSumsSignedByteProducts() {
        assertTrue(ptx("bytesDot", CompileOptions.defaults()).contains("dp4a.s32.s32"));
        Random random = new Random(11);
        int n = 64;
        int[] a = new int[n], b = new int[n], c = new int[n], out = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = random.nextInt();
            b[i] = random.nextInt();
            c[i] = random.nextInt(1 << 20) - (1 << 19);
        }
        a[0] = b[0] = 0x80808080;
        a[1] = 0x7F80FF01;
        b[1] = 0x80FF7F01;
        new Emulator().launch(KernelMethod.of(CompilerTestKernels.class, "bytesDot"), Grid.of(1, n), a, b, c, out);
        for (int i = 0; i < n; i++) {
            int expected = c[i];
            for (int k = 0; k < 4; k++) expected += (byte) (a[i] >>> (8 * k)) * (byte) (b[i] >>> (8 * k));
            assertEquals(expected, out[i], "word " + i);
        }
        assertEquals(4 * 128 * 128 + c[0], out[0]);
        assertEquals(1 - 127 + (-128) * (-1) + 127 * (-128) + c[1], out[1]);
    }

    @Test
    void mathMaxPropagatesNaN() {
        assertTrue(ptx("javaMax", CompileOptions.defaults()).contains("max.NaN.f32"));
    }

    @Test
    void theDoubleRootOfAFloatKeepsItsPrecisionUnlessItIsOnlyRoundedToFloat() {
        KernelMethod k = KernelMethod.of(CompilerTestKernels.class, "inverseRoot");
        String ptx = compiler.compile(k, CompileOptions.defaults()).ptx();
        assertTrue(ptx.contains("sqrt.rn.f64") && ptx.contains("div.rn.f64") && ptx.contains("sqrt.rn.f32"), ptx);
        int n = 1024;
        float[] a = new float[n];
        Random random = new Random(7);
        int differ = 0;
        for (int i = 0; i < n; i++) {
            a[i] = (float) Math.exp(20 * random.nextDouble() - 10);
            // 1 / the float root rounds differently from 1 / the double root for a few percent of inputs
            differ += (float) (1.0 / (float) Math.sqrt(a[i])) != (float) (1.0 / Math.sqrt(a[i])) ? 1 : 0;
        }
        assertTrue(differ > 0, "no input tells the two roots apart");
        float[] inverseIr = new float[n], rootIr = new float[n], inverseJava = new float[n], rootJava = new float[n];
        IrInterpreter.run(KernelCompiler.optimizedIr(k, Map.of(), CompileOptions.defaults()), Grid.of(1, n), a, inverseIr, rootIr);
        new Emulator().launch(k, Grid.of(1, n), a, inverseJava, rootJava);
        assertArrayEquals(inverseJava, inverseIr);
        assertArrayEquals(rootJava, rootIr);
    }

    @Test
    void constantParametersSpecialiseAndAreCachedPerValue() {
        KernelMethod k = KernelMethod.of(CompilerTestKernels.class, "specialised");
        CompiledKernel a = compiler.compile(k, Map.of(2, 64), CompileOptions.defaults());
        CompiledKernel again = compiler.compileFor(k, new Object[] {null, 64}, CompileOptions.defaults());
        CompiledKernel b = compiler.compile(k, Map.of(2, 128), CompileOptions.defaults());
        assertSame(a, again);
        assertNotSame(a, b);
        assertEquals(2, compiler.cachedCount());
        assertTrue(a.ptx().contains("specialised_smem0[256]"), a.ptx());
        assertTrue(b.ptx().contains("specialised_smem0[512]"), b.ptx());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> compiler.compile(k, CompileOptions.defaults()));
        assertTrue(e.getMessage().contains("@Constant parameter int n"), e.getMessage());
    }

    @Test
    void halfPrecisionParametersCompileOncePerElementTypeTheLaunchPasses() {
        KernelMethod k = KernelMethod.of(CompilerTestKernels.class, "widenHalves");
        try (Arena arena = Arena.ofConfined()) {
            CompiledKernel f16 = compiler.compileFor(k, new Object[] {F16Array.allocate(arena, 8), null}, CompileOptions.defaults());
            CompiledKernel bf16 = compiler.compileFor(k, new Object[] {BF16Array.allocate(arena, 8), null}, CompileOptions.defaults());
            assertNotSame(f16, bf16);
            assertTrue(f16.ptx().contains("cvt.f32.f16"), f16.ptx());
            // bfloat16 widens by moving its bits to the top half of a float
            assertFalse(bf16.ptx().contains("cvt.f32.f16"), bf16.ptx());
            assertTrue(bf16.ptx().contains("shl.b32"), bf16.ptx());
            assertTrue(bf16.key().shortName().contains("-p1=BF16"), bf16.key().shortName());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> compiler.compile(k, CompileOptions.defaults()));
        assertTrue(e.getMessage().contains("HalfPrecisionArray in") && e.getMessage().contains("F16 or BF16"), e.getMessage());
        UnsupportedKernelException chosen = assertThrows(UnsupportedKernelException.class, () -> compiler.compile(
                KernelMethod.of(RejectedKernels.class, "choosesAHalfArray"), Map.of(1, ElementType.BF16, 2, ElementType.F16),
                CompileOptions.defaults()));
        assertTrue(chosen.getMessage().contains("different element types on different paths"), chosen.getMessage());
    }

    @Test
    void noUnrollMarksTheNextLoopHeader() {
        String ptx = ptx("notUnrolled", CompileOptions.defaults());
        java.util.List<String> lines = ptx.lines().map(String::strip).toList();
        int pragma = lines.indexOf(".pragma \"nounroll\";");
        assertTrue(pragma > 0, ptx);
        String header = lines.get(pragma - 1);
        assertTrue(header.endsWith(":"), "the pragma must follow the loop header's label: " + ptx);
        String label = header.substring(0, header.length() - 1);
        assertTrue(lines.subList(pragma, lines.size()).stream().anyMatch(l -> l.startsWith("bra") && l.endsWith(label + ";")),
                "no backward branch to " + label + ": " + ptx);
    }

    @Test
    void aPointerFromTwoSpacesBecomesGenericAndStillReadsTheRightArray() {
        KernelMethod k = KernelMethod.of(CompilerTestKernels.class, "mixedSpaces");
        String ptx = compiler.compile(k, CompileOptions.defaults()).ptx();
        assertTrue(ptx.contains("cvta.shared.u64") && ptx.contains("cvta.global.u64") && ptx.contains("ld.f32"), ptx);
        for (int useShared = 0; useShared <= 1; useShared++) {
            float[] global = new float[64];
            for (int i = 0; i < 64; i++) {
                global[i] = -i;
            }
            float[] viaIr = new float[64];
            float[] viaJava = new float[64];
            IrInterpreter.run(KernelCompiler.optimizedIr(k, Map.of(), CompileOptions.defaults()), Grid.of(1, 64), global, viaIr, useShared);
            new Emulator().launch(k, Grid.of(1, 64), global, viaJava, useShared);
            assertArrayEquals(viaJava, viaIr);
            assertEquals(useShared == 1 ? 2f * 5 + 1 : -5 + 1, viaIr[5]);
        }
    }

    @Test
    void dumpPropertyWritesThePtx(@TempDir Path dir) throws Exception {
        System.setProperty(PtxDump.PROPERTY, dir.toString());
        try {
            compiler.compile(KernelMethod.of(CompilerTestKernels.class, "javaMax"), CompileOptions.defaults());
        } finally {
            System.clearProperty(PtxDump.PROPERTY);
        }
        Path file = dir.resolve("CompilerTestKernels.javaMax.sm_90.ptx");
        assertTrue(Files.readString(file).contains(".entry javaMax("), "missing " + file);
    }

    @Test
    void targetsFollowComputeCapabilityAndRefuseOldGpus() {
        assertEquals(Target.SM_90, Target.forComputeCapability(9, 0));
        assertEquals(Target.SM_86, Target.forComputeCapability(8, 7));
        assertEquals(Target.SM_120, Target.forComputeCapability(12, 1));
        assertEquals("7.8", Target.SM_90.ptxVersion());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Target.forComputeCapability(7, 5));
        assertTrue(e.getMessage().contains("sm_80"), e.getMessage());
    }
}
