package org.retroinfer.accel.examples;

import org.retroinfer.accel.kernel.F32Array;

/** Comparisons of kernel outputs with references, reporting the worst element. */
final class Checks {
    private Checks() {}

    /** Every element within {@code abs + rel·|expected|}; NaN matches NaN only. */
    static ExampleCase.Check close(F32Array actual, double[] expected, double abs, double rel) {
        double worst = 0;
        long worstAt = -1;
        for (int i = 0; i < expected.length; i++) {
            float a = actual.get(i);
            double e = expected[i];
            if (Double.isNaN(e) || Float.isNaN(a)) {
                if (Double.isNaN(e) != Float.isNaN(a)) {
                    return new ExampleCase.Check(false, "element " + i + ": expected " + e + ", got " + a);
                }
                continue;
            }
            double err = Math.abs(a - e);
            if (!(err <= abs + rel * Math.abs(e))) {
                return new ExampleCase.Check(false, "element " + i + ": expected " + e + ", got " + a + " (error " + err + ")");
            }
            if (err > worst) {
                worst = err;
                worstAt = i;
            }
        }
        return new ExampleCase.Check(true, "max abs error " + String.format("%.3g", worst)
                + (worstAt >= 0 ? " at " + worstAt : "") + " over " + expected.length + " elements");
    }

    /** Bit-exact float comparison (any NaN matches any NaN: NaN payloads are unspecified on the GPU). */
    static ExampleCase.Check exact(F32Array actual, float[] expected, String what) {
        for (int i = 0; i < expected.length; i++) {
            float a = actual.get(i);
            boolean same = Float.isNaN(expected[i]) ? Float.isNaN(a)
                    : Float.floatToRawIntBits(a) == Float.floatToRawIntBits(expected[i]);
            if (!same) {
                return new ExampleCase.Check(false, what + " element " + i + ": expected " + expected[i] + " (0x"
                        + Integer.toHexString(Float.floatToRawIntBits(expected[i])) + "), got " + a + " (0x"
                        + Integer.toHexString(Float.floatToRawIntBits(a)) + ")");
            }
        }
        return new ExampleCase.Check(true, what + ": " + expected.length + " elements bit-exact");
    }
}
