package org.retroinfer.accel.compiler;

import java.util.List;
import java.util.stream.Collectors;
import org.retroinfer.accel.compiler.ir.SourcePosition;

/**
 * A kernel uses something the GPU cannot do. The message names the class, method, source line and
 * bytecode offset, what is wrong and what to write instead; for code inlined from a helper it also names
 * the call chain back to the kernel.
 */
public final class UnsupportedKernelException extends RuntimeException {
    private final transient SourcePosition position;
    private final String problem;
    private final String hint;

    public UnsupportedKernelException(SourcePosition position, List<SourcePosition> inlinedFrom, String problem, String hint) {
        super(position + ": " + problem + (hint.isEmpty() ? "" : "; " + hint)
                + (inlinedFrom.isEmpty() ? "" : inlinedFrom.stream().map(p -> " [inlined into " + p + "]")
                        .collect(Collectors.joining())));
        this.position = position;
        this.problem = problem;
        this.hint = hint;
    }

    public SourcePosition position() {
        return position;
    }

    /** What is wrong, without position or hint. */
    public String problem() {
        return problem;
    }

    /** What to write instead. */
    public String hint() {
        return hint;
    }
}
