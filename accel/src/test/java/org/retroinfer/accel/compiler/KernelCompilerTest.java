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
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.accel.compiler.ir.Const;
import org.retroinfer.accel.compiler.ir.Function;
import org.retroinfer.accel.compiler.ir.Instr;
import org.retroinfer.accel.compiler.ir.Op;
import org.retroinfer.accel.compiler.ir.Terminator;
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

    /**
     * A ternary of values already computed is a {@code selp}, not a branch (ptxas turns such a branch into two predicated
     * moves per value, a select into one instruction), and so are the inner two of three nested ternaries and a boolean
     * one made of a compare; an arm that computes more (the outer ternary's arm holds two compares and two selects) stays
     * a branch. The IR computes what the Java does, on values either side of every condition.
     */
    @Test
    void ternariesOfComputedValuesBecomeSelects() {
        KernelMethod k = KernelMethod.of(CompilerTestKernels.class, "ternaries");
        Function f = KernelCompiler.optimizedIr(k, Map.of(), CompileOptions.defaults());
        assertEquals(6, count(f, i -> i.op() == Op.SELECT), f.dump());
        assertEquals(2, f.blocks().stream().filter(b -> b.terminator() instanceof Terminator.Branch).count(), f.dump());
        int n = 64;
        int[] a = new int[n];
        float[] x = new float[n];
        Random random = new Random(5);
        for (int i = 0; i < n; i++) {
            a[i] = random.nextInt(41) - 20;
            x[i] = (float) random.nextGaussian();
        }
        int[] outIr = new int[2 * n], outJava = new int[2 * n];
        float[] yIr = new float[2 * n], yJava = new float[2 * n];
        IrInterpreter.run(f, Grid.of(1, n), a, x, outIr, yIr);
        new Emulator().launch(k, Grid.of(1, n), a, x, outJava, yJava);
        assertArrayEquals(outJava, outIr);
        assertArrayEquals(yJava, yIr);
        assertTrue(ptx("ternaries", CompileOptions.defaults()).contains("selp.b32"));
    }

    /**
     * Division and remainder by a power of two are shifts and masks (ptxas keeps {@code div.s32 x, 8} a full division),
     * with Java's rounding toward zero for negative dividends, and a plain shift or mask for a dividend that cannot be
     * negative (a thread index, a masked value, a max with 0: no sign shifts); by 1 they vanish; by -4 and 3 they stay
     * divisions. The IR computes what the Java does on the extremes, ±1 and random ints and longs.
     */
    @Test
    void divisionsByPowersOfTwoBecomeShifts() {
        KernelMethod k = KernelMethod.of(CompilerTestKernels.class, "constantDivisions");
        Function f = KernelCompiler.optimizedIr(k, Map.of(), CompileOptions.defaults());
        assertEquals(2, count(f, i -> i.op() == Op.DIV || i.op() == Op.REM), f.dump());
        // sign shifts (x >> 31, y >> 63) only for the five reductions of possibly negative dividends: x / 8, x % 8,
        // x / 2^30, y / 16 and y % 2^40
        assertEquals(5, count(f, i -> i.op() == Op.SHR && i.operand(1) instanceof Const c && (c.asInt() == 31 || c.asInt() == 63)),
                f.dump());
        int n = 64;
        int[] a = new int[n];
        long[] b = new long[n];
        Random random = new Random(9);
        for (int i = 0; i < n; i++) {
            a[i] = random.nextInt();
            b[i] = random.nextLong();
        }
        int[] edges = {Integer.MIN_VALUE, Integer.MAX_VALUE, -1, 1, 0, -8, -9, 7};
        System.arraycopy(edges, 0, a, 0, edges.length);
        long[] wideEdges = {Long.MIN_VALUE, Long.MAX_VALUE, -1, 1, 0, -16, -17, -(1L << 40) - 1};
        System.arraycopy(wideEdges, 0, b, 0, wideEdges.length);
        int[] outIr = new int[8 * n], outJava = new int[8 * n];
        long[] wideIr = new long[2 * n], wideJava = new long[2 * n];
        IrInterpreter.run(f, Grid.of(1, n), a, b, outIr, wideIr);
        new Emulator().launch(k, Grid.of(1, n), a, b, outJava, wideJava);
        assertArrayEquals(outJava, outIr);
        assertArrayEquals(wideJava, wideIr);
    }

    /**
     * {@code ctx.ballot} is one {@code vote.sync.ballot.b32} and {@code ctx.matchAny} one {@code match.any.sync.b32}
     * (ptxas assembles both for sm_80 and sm_90); on the emulator and in the IR they give the masks the inputs define.
     */
    @Test
    void warpVotesAreOneInstructionAndGiveTheLaneMasks() {
        String ptx = ptx("warpVotes", CompileOptions.defaults());
        assertTrue(ptx.contains("vote.sync.ballot.b32") && ptx.contains("match.any.sync.b32"), ptx);
        if (Ptxas.available()) {
            for (Target target : new Target[] {Target.SM_80, Target.SM_90}) {
                String forTarget = compiler.compile(KernelMethod.of(CompilerTestKernels.class, "warpVotes"), Map.of(),
                        new CompileOptions(target, false)).ptx();
                Ptxas.Result r = Ptxas.assemble(forTarget, target);
                assertEquals(0, r.exitCode(), r.log());
            }
        }
        int n = 64;
        int[] a = new int[n];
        Random random = new Random(3);
        for (int i = 0; i < n; i++) a[i] = random.nextInt(9) - 4;
        int[] outJava = new int[3 * n], outIr = new int[3 * n];
        KernelMethod k = KernelMethod.of(CompilerTestKernels.class, "warpVotes");
        new Emulator().launch(k, Grid.of(1, n), a, outJava);
        IrInterpreter.run(KernelCompiler.optimizedIr(k, Map.of(), CompileOptions.defaults()), Grid.of(1, n), a, outIr);
        assertArrayEquals(outJava, outIr);
        for (int i = 0; i < n; i++) {
            int warp = i / 32 * 32, lane = i % 32, ballot = 0, peers = 0;
            for (int l = 0; l < 32; l++) {
                ballot |= (a[warp + l] > 0 ? 1 : 0) << l;
                peers |= ((a[warp + l] & 3) == (a[i] & 3) ? 1 : 0) << l;
            }
            assertEquals(ballot, outJava[3 * i], "ballot of thread " + i);
            assertEquals(peers, outJava[3 * i + 1], "peers of thread " + i);
            assertEquals(Integer.bitCount(ballot & (1 << lane) - 1), outJava[3 * i + 2], "rank of thread " + i);
        }
    }

    /** The instructions of {@code f} that {@code which} accepts. */
    private static long count(Function f, Predicate<Instr> which) {
        return f.blocks().stream().flatMap(b -> b.instrs().stream()).filter(which).count();
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
