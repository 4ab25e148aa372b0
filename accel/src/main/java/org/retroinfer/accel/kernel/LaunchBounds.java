package org.retroinfer.accel.kernel;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Bounds a {@link Kernel}'s launches, as CUDA's {@code __launch_bounds__}: blocks of at most {@link #maxThreads()}
 * threads and, where {@link #minBlocks()} is positive, few enough registers a thread for that many such blocks to be
 * resident on a multiprocessor at once. The compiler writes PTX's {@code .maxntid} and {@code .minnctapersm}; ptxas
 * then keeps each thread within the registers that leaves (spilling past them), where left alone it may take more and
 * cost the kernel resident blocks. A launch of larger blocks is refused, on the GPU and in the emulator alike.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface LaunchBounds {
    /** The most threads a block of a launch may have. */
    int maxThreads();

    /** Blocks of {@link #maxThreads()} threads that must fit on a multiprocessor at once; 0 for no such bound. */
    int minBlocks() default 0;
}
