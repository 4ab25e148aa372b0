package org.retroinfer.accel.emulator;

import java.lang.StackWalker.StackFrame;
import java.lang.reflect.Method;
import java.util.List;
import java.util.stream.Collectors;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Where in the kernel a thread called a barrier, shuffle or shared allocation: the chain of calls from
 * the kernel method down to the {@link KernelContext} intrinsic. The compiler inlines every helper, so
 * this chain is exactly what identifies one instruction (or one {@code .shared} variable) on the GPU.
 */
record CallSite(String key, String display) {
    private static final StackWalker WALKER = StackWalker.getInstance();
    private static final String EMULATOR_PACKAGE = CallSite.class.getPackageName() + ".";

    /** The calling thread's site in {@code kernel}, skipping the emulator and the intrinsic's own frame. */
    static CallSite capture(Method kernel) {
        List<StackFrame> frames = WALKER.walk(s -> s
                .dropWhile(f -> f.getClassName().startsWith(EMULATOR_PACKAGE))
                .skip(1) // the intrinsic itself (KernelContext.localBarrier, shuffleXor, ...)
                .takeWhile(new UntilKernel(kernel))
                .toList());
        String key = frames.stream().map(f -> f.getClassName() + "." + f.getMethodName() + "@" + f.getByteCodeIndex())
                .collect(Collectors.joining(" <- "));
        String display = frames.stream().map(f -> f.getFileName() + ":" + f.getLineNumber())
                .collect(Collectors.joining(" called from "));
        return new CallSite(key, display);
    }

    /** Accepts frames up to and including the kernel's own frame. */
    private static final class UntilKernel implements java.util.function.Predicate<StackFrame> {
        private final Method kernel;
        private boolean done;

        UntilKernel(Method kernel) {
            this.kernel = kernel;
        }

        @Override
        public boolean test(StackFrame f) {
            if (done) {
                return false;
            }
            done = f.getMethodName().equals(kernel.getName()) && f.getClassName().equals(kernel.getDeclaringClass().getName());
            return true;
        }
    }
}
