package org.retroinfer.accel.compiler.ir;

/** A kernel parameter: loaded from the PTX parameter space in the entry block. */
public final class Param extends Value {
    private final int ptxIndex;
    private final String name;

    public Param(Type type, int ptxIndex, String name) {
        super(type);
        this.ptxIndex = ptxIndex;
        this.name = name;
    }

    /** Position in the PTX parameter list. */
    public int ptxIndex() {
        return ptxIndex;
    }

    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "param" + ptxIndex + ":" + name;
    }
}
