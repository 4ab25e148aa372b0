package org.retroinfer.accel.compiler;

import java.util.Objects;

/**
 * How to compile a kernel.
 *
 * <p>{@code fastMath = false} (the default) keeps Java's float semantics: {@code add/sub/mul.rn} so that
 * ptxas cannot contract {@code a * b + c} into an fma (Java has been strictfp since 17), correctly rounded
 * division and square root, and the accurate {@code exp}. {@code fastMath = true} lets ptxas contract
 * multiply-adds, uses {@code div.full.f32}, {@code sqrt.approx}, flushes subnormals in the approximate
 * functions and uses a single-instruction {@code exp}: faster, but results differ from the emulator in the
 * last bits. Integer semantics (shift masking, saturating conversions) are Java's in both modes.
 */
public record CompileOptions(Target target, boolean fastMath) {
    public CompileOptions {
        Objects.requireNonNull(target, "target");
    }

    /** sm_90 with Java semantics. */
    public static CompileOptions defaults() {
        return new CompileOptions(Target.SM_90, false);
    }

    public CompileOptions withTarget(Target t) {
        return new CompileOptions(t, fastMath);
    }

    public CompileOptions withFastMath(boolean fast) {
        return new CompileOptions(target, fast);
    }
}
