package org.retroinfer.accel.examples;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Random;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;

/**
 * One example kernel (or pipeline of kernels) with fresh random inputs and a plain-Java reference. The
 * same case runs in the unit tests (CPU emulator, IR interpreter, ptxas) and on the GPU
 * ({@link org.retroinfer.accel.GpuCheck}), so every example kernel is checked everywhere against the
 * same reference.
 */
public interface ExampleCase {
    /** How big a problem to build and how to size grid-stride launches. */
    record Scale(long elements, int streamingBlocks, int blockSize) {
        public Scale {
            if (elements < 64 || streamingBlocks < 1 || blockSize < 32 || blockSize % 32 != 0 || blockSize > 1024) {
                throw new IllegalArgumentException("scale needs elements >= 64, streamingBlocks >= 1 and a block size"
                        + " that is a multiple of 32 up to 1024; got " + elements + ", " + streamingBlocks + ", " + blockSize);
            }
        }

        /** Small enough for the emulator to run in well under a second. */
        public static Scale forTests() {
            return new Scale(20_000, 4, 128);
        }
    }

    /** One launch: the kernel, its grid and its arguments (typed arrays, Java arrays and primitives). */
    record Launch(KernelMethod kernel, Grid grid, Object[] args) {}

    /** The verdict of comparing outputs with the reference. */
    record Check(boolean ok, String detail) {}

    /** A built problem: host-side arrays, the launches that solve it, and its reference check. */
    interface Instance {
        List<Launch> launches();

        /** Arrays whose initial contents the kernels read (uploaded before a GPU run). */
        List<Object> inputs();

        /** Arrays the kernels write (poisoned before the run unless they are also inputs, then compared). */
        List<Object> outputs();

        /** Compares the outputs with the plain-Java reference. */
        Check check();

        /** Bytes the launches must move through memory at least (for achieved bandwidth). */
        long bytesMoved();

        /** Floating-point operations the launches perform (0 when bandwidth is the figure of merit). */
        default double flops() {
            return 0;
        }
    }

    String name();

    /** Every kernel the case launches (for compilation checks). */
    List<KernelMethod> kernels();

    /**
     * Whether the check needs Java's float semantics bit for bit, which fast-math compilation gives up (then
     * the GPU check skips the case and says why).
     */
    default boolean needsJavaFloatSemantics() {
        return false;
    }

    /** Builds a problem of roughly {@code scale.elements()} elements from {@code random}, in {@code arena}. */
    Instance create(Arena arena, Scale scale, Random random);
}
