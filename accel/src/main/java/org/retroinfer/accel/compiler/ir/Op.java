package org.retroinfer.accel.compiler.ir;

/**
 * IR operations. Each {@link Instr} has one op, a result {@link Type} and operands; {@code attribute}
 * carries the op's extra data (noted per op).
 */
public enum Op {
    ADD, SUB, MUL, DIV, REM, AND, OR, XOR,
    /** Shifts; the count is already masked to Java semantics by the front end. */
    SHL, SHR, USHR,
    NEG, ABS,
    /** Java {@code Math.min/max} semantics (NaN wins for floats). */
    MIN, MAX,
    /** {@code a * b + c} with one rounding. */
    FMA,
    /** (a, b, c) → c + the dot product of a's and b's four signed bytes (I32). */
    DP4A,
    SQRT, RSQRT, EXP, LOG,
    /** Integer bit counts: population count and leading zeros (result I32). */
    POPC, CLZ,
    /** attribute: {@link Conversion}. */
    CONVERT,
    /** Predicate from a comparison; attribute: {@link Cond}. */
    CMP,
    /** Java's three-way lcmp/fcmpl/fcmpg (-1, 0, 1); attribute: Integer result when an operand is NaN. */
    CMP3,
    /** Predicate true when either float operand is NaN. */
    IS_NAN,
    /** (predicate, ifTrue, ifFalse). */
    SELECT,
    /** A special register read (I32); attribute: the register name, e.g. {@code %tid.x}. */
    SPECIAL,
    /** base + index * size; attribute: Integer element size. Index I32 (sign-extended) or I64. */
    ELEMENT_ADDR,
    /** attribute: {@link MemType}. */
    LOAD,
    /** (address, value); attribute: {@link MemType}. */
    STORE,
    /** One 16-byte load into four lanes (read with {@link #EXTRACT}); attribute: {@link MemType} (I32 or F32). */
    LOAD_V4,
    /** Lane of a {@link #LOAD_V4} or {@link #MMA_BF16}; attribute: Integer lane. */
    EXTRACT,
    /** (address, v0, v1, v2, v3); attribute: {@link MemType} (I32 or F32). */
    STORE_V4,
    /** (address, value) returning the old value; attribute: {@link AtomicOp}. */
    ATOMIC,
    /** Block barrier. */
    BARRIER,
    /** (value, lane or delta); attribute: {@link org.retroinfer.accel.kernel.ShuffleMode}. */
    SHUFFLE,
    /**
     * A warp vote over an I32 operand (a flag, nonzero for true, or a value), giving a lane mask; attribute:
     * {@link WarpVote}.
     */
    WARP_VOTE,
    /** Address of a shared array; attribute: {@link SharedArray}. */
    SHARED_ADDR,
    /** A pointer converted to a generic address; attribute: the source {@link Space}. */
    TO_GENERIC,
    /** Two floats rounded to bfloat16 (nearest even) and packed, (low, high) → I32 with low in bits 0-15. */
    PACK_BF16X2,
    /**
     * A warp's {@code mma.sync m16n8k16} on bfloat16 pairs with F32 accumulators: operands (a0..a3, b0, b1, c0..c3);
     * its four results are read with {@link #EXTRACT}.
     */
    MMA_BF16;

    /** Whether the instruction must be kept even when its result is unused. */
    public boolean hasSideEffects() {
        return switch (this) {
            case STORE, STORE_V4, ATOMIC, BARRIER, SHUFFLE, WARP_VOTE, MMA_BF16 -> true;
            default -> false;
        };
    }
}
