package org.retroinfer.accel.kernel;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an {@code int}, {@code long}, {@code float} or {@code double} kernel parameter whose value is
 * compiled into the kernel: each distinct value gets its own specialised PTX (cached), so loop bounds,
 * shared-array sizes and branches on it fold away. Use it for head dimensions and block sizes, never for
 * values that change every launch. The emulator passes the value through unchanged.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.PARAMETER)
public @interface Constant {}
