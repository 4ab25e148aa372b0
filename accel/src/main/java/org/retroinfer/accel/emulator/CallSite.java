package org.retroinfer.accel.emulator;

import java.lang.StackWalker.StackFrame;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * Where in the kernel a thread called a barrier, shuffle or shared allocation: the chain of calls from
 * the kernel method down to the {@link KernelContext} intrinsic. The compiler inlines every helper, so
 * this chain is exactly what identifies one instruction (or one {@code .shared} variable) on the GPU.
 *
 * <p>Every emulated thread captures one at every barrier and shuffle, so the capture keeps to what identifies the
 * site ({@link #key()}: each frame's class and bytecode index) and leaves file names and line numbers
 * ({@link #display()}) to the error messages that need them.
 */
final class CallSite {
    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);
    private static final String EMULATOR_PACKAGE = CallSite.class.getPackageName();

    /**
     * One frame of the chain: equal frames are the same call. The chain ends at the kernel method, whose bytecode index
     * names the one method that call invokes (kernels call static methods), and so on up: class and bytecode index
     * identify each frame, and a frame's method name is read only to find the kernel's.
     */
    private record Frame(Class<?> type, int bytecodeIndex) {}

    private final List<Frame> key;
    private final List<StackFrame> frames;

    private CallSite(List<Frame> key, List<StackFrame> frames) {
        this.key = key;
        this.frames = frames;
    }

    /** The calling thread's site in {@code kernel}, skipping the emulator and the intrinsic's own frame. */
    static CallSite capture(Method kernel) {
        List<Frame> key = new ArrayList<>(4);
        List<StackFrame> frames = new ArrayList<>(4);
        Class<?> kernelClass = kernel.getDeclaringClass();
        String kernelName = kernel.getName();
        // findFirst stops the walk at the kernel's frame; the skipped frame is the intrinsic itself
        // (KernelContext.localBarrier, shuffleXor, ...): the chain starts at its caller
        WALKER.walk(s -> s.dropWhile(f -> f.getDeclaringClass().getPackageName().equals(EMULATOR_PACKAGE))
                .skip(1)
                .filter(f -> {
                    key.add(new Frame(f.getDeclaringClass(), f.getByteCodeIndex()));
                    frames.add(f);
                    return f.getDeclaringClass() == kernelClass && f.getMethodName().equals(kernelName);
                })
                .findFirst());
        return new CallSite(key, frames);
    }

    /** What identifies the site: equal keys are the same instruction (or shared variable) on the GPU. */
    Object key() {
        return key;
    }

    /** The site for a reader: file and line of each frame, innermost first. */
    String display() {
        return frames.stream().map(f -> f.getFileName() + ":" + f.getLineNumber()).collect(Collectors.joining(" called from "));
    }
}
