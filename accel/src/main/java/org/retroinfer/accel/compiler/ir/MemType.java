package org.retroinfer.accel.compiler.ir;

/** The type of a memory access and the register type it loads into or stores from. */
public enum MemType {
    S8(1, Type.I32, "s8", "b8"),
    U8(1, Type.I32, "u8", "b8"),
    S16(2, Type.I32, "s16", "b16"),
    U16(2, Type.I32, "u16", "b16"),
    I32(4, Type.I32, "s32", "b32"),
    F32(4, Type.F32, "f32", "f32"),
    I64(8, Type.I64, "s64", "b64"),
    F64(8, Type.F64, "f64", "f64");

    private final int bytes;
    private final Type register;
    private final String load;
    private final String store;

    MemType(int bytes, Type register, String load, String store) {
        this.bytes = bytes;
        this.register = register;
        this.load = load;
        this.store = store;
    }

    public int bytes() {
        return bytes;
    }

    public Type registerType() {
        return register;
    }

    /** The type suffix for a load (sign- or zero-extends narrow values into a 32-bit register). */
    public String loadSuffix() {
        return load;
    }

    /** The type suffix for a store (narrow stores keep the low bits). */
    public String storeSuffix() {
        return store;
    }
}
