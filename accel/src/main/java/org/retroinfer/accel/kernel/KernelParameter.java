package org.retroinfer.accel.kernel;

/**
 * One parameter of a kernel method: its position among the Java parameters, its name (from the class
 * file when compiled with {@code -parameters}, else {@code argN}), what it is and whether it is a
 * {@link Constant}.
 */
public record KernelParameter(int index, String name, Class<?> type, ParameterKind kind, boolean constant) {
    /**
     * Whether the parameter is a {@link HalfPrecisionArray}: one kernel then serves F16 and BF16 arrays, each launch
     * compiled for the element type of the array it passes, as a {@link Constant} is for its value.
     */
    public boolean halfPrecision() {
        return type == HalfPrecisionArray.class;
    }

    /** A label for messages, such as {@code "F32Array src"}. */
    public String describe() {
        return type.getSimpleName() + " " + name;
    }
}
