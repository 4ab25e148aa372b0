package org.retroinfer.accel.compiler.ir;

/** An SSA value: a constant, a kernel parameter, an instruction result or a phi. */
public abstract sealed class Value permits Const, Param, Instr, Phi {
    private final Type type;
    private Space space;

    Value(Type type) {
        this.type = type;
    }

    public final Type type() {
        return type;
    }

    /** For pointers: the state space it points into (set by space inference); null before that. */
    public final Space space() {
        return space;
    }

    public final void setSpace(Space space) {
        if (type != Type.PTR) {
            throw new IllegalStateException("only pointers have a state space, not " + type);
        }
        this.space = space;
    }
}
