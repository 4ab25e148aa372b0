package org.retroinfer.model.weights;

/** The value types of GGUF metadata, with their codes in the file format. */
public enum GgufType {
    UINT8(0), INT8(1), UINT16(2), INT16(3), UINT32(4), INT32(5), FLOAT32(6), BOOL(7),
    STRING(8), ARRAY(9), UINT64(10), INT64(11), FLOAT64(12);

    private final int code;

    GgufType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    public boolean isFloat() {
        return this == FLOAT32 || this == FLOAT64;
    }

    /** The type with this code, or null where the code is not a GGUF type. */
    public static GgufType ofCode(int code) {
        for (GgufType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }
}
