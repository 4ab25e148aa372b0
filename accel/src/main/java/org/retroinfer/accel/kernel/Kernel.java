package org.retroinfer.accel.kernel;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a {@code static void} method as a GPU kernel: an entry point that the compiler translates to one
 * PTX {@code .entry} and that the emulator runs once per GPU thread.
 *
 * <p>A kernel may take, in any order: at most one {@link KernelContext}; {@code int}, {@code long},
 * {@code float} and {@code double} values; Java primitive arrays (device pointers with {@code int}
 * indices); and the typed arrays {@link F32Array}, {@link F16Array}, {@link BF16Array},
 * {@link I32Array} and {@link I8Array} (long-indexed). Parameters marked {@link Constant} are
 * compile-time constants of each specialisation. The body may call other static methods (they are
 * inlined), the {@link KernelContext} intrinsics, {@link KMath}, {@code Math.fma/min/max/abs/sqrt},
 * the {@code Float} bit and half conversions and the typed-array accessors; anything the GPU cannot do
 * (allocation, exceptions, virtual calls, recursion, fields) is refused at compile time with the
 * source line and what to write instead.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Kernel {}
