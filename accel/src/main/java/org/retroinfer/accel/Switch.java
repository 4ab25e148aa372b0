package org.retroinfer.accel;

/**
 * A choice read once from a system property ({@code -Dretroinfer....}) between a default and the code it replaced, kept
 * to compare the two on the GPU in one run. A value outside the choices is an error that names the property and its
 * choices, never a quiet default.
 */
public final class Switch {
    private Switch() {}

    /** The value of {@code property}: one of {@code choices}, the first unless the property is set. */
    public static String choice(String property, String... choices) {
        String value = System.getProperty(property, choices[0]);
        for (String choice : choices) {
            if (choice.equals(value)) {
                return value;
            }
        }
        throw new IllegalArgumentException("-D" + property + " must be " + String.join(" or ", choices) + ", got '" + value + "'");
    }

    /** Whether {@code property} is {@code on} (its default) rather than {@code off}. */
    public static boolean on(String property) {
        return choice(property, "on", "off").equals("on");
    }
}
