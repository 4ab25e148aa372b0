package org.retroinfer.accel.compiler.ir;

/** The PTX state space a pointer points into, inferred per value; {@link #GENERIC} where paths merge different spaces. */
public enum Space {
    GLOBAL("global"),
    SHARED("shared"),
    GENERIC("");

    private final String ptx;

    Space(String ptx) {
        this.ptx = ptx;
    }

    /** The state-space qualifier for ld/st/atom ({@code .global}, {@code .shared}, or nothing for generic). */
    public String qualifier() {
        return ptx.isEmpty() ? "" : "." + ptx;
    }

    public String ptxName() {
        return ptx;
    }
}
