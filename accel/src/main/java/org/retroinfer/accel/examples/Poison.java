package org.retroinfer.accel.examples;

import java.util.Arrays;
import org.retroinfer.accel.kernel.TypedArray;

/** Fills outputs with garbage (all-ones bytes: NaN for floats, -1 for ints) before a kernel writes them. */
public final class Poison {
    private Poison() {}

    public static void fill(Object array) {
        switch (array) {
            case TypedArray t -> t.segment().fill((byte) 0xFF);
            case float[] a -> Arrays.fill(a, Float.NaN);
            case double[] a -> Arrays.fill(a, Double.NaN);
            case int[] a -> Arrays.fill(a, -1);
            case long[] a -> Arrays.fill(a, -1L);
            case short[] a -> Arrays.fill(a, (short) -1);
            case byte[] a -> Arrays.fill(a, (byte) -1);
            default -> throw new IllegalArgumentException("cannot poison a " + array.getClass().getSimpleName());
        }
    }

    /** Poisons every output that is not also an input. */
    public static void outputs(ExampleCase.Instance instance) {
        for (Object o : instance.outputs()) {
            if (!instance.inputs().contains(o)) {
                fill(o);
            }
        }
    }
}
