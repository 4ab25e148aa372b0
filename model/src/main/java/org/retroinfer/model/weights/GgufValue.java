package org.retroinfer.model.weights;

import java.util.List;

/**
 * One typed GGUF metadata value. The Java value is a {@link Long} for every integer type
 * (unsigned ones as their non-negative value), a {@link Double} for FLOAT32 and FLOAT64, a
 * {@link Boolean}, a {@link String}, or, for ARRAY, a {@link List} of such values (nested
 * arrays as nested lists) whose GGUF type is {@code elementType}. The type is kept because
 * llama.cpp checks it: a context length must be UINT32, an epsilon FLOAT32, and so on.
 */
public record GgufValue(GgufType type, GgufType elementType, Object value) {
    public GgufValue {
        boolean ok = switch (type) {
            case ARRAY -> value instanceof List<?> && elementType != null;
            case STRING -> value instanceof String;
            case BOOL -> value instanceof Boolean;
            case FLOAT32, FLOAT64 -> value instanceof Double;
            default -> value instanceof Long;
        };
        if (!ok) {
            throw new IllegalArgumentException("a GGUF " + type + " value cannot hold " + value);
        }
    }

    public static GgufValue uint32(long v) {
        return new GgufValue(GgufType.UINT32, null, v);
    }

    public static GgufValue int32(long v) {
        return new GgufValue(GgufType.INT32, null, v);
    }

    public static GgufValue uint64(long v) {
        return new GgufValue(GgufType.UINT64, null, v);
    }

    public static GgufValue float32(double v) {
        return new GgufValue(GgufType.FLOAT32, null, v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(GgufType.BOOL, null, v);
    }

    public static GgufValue string(String v) {
        return new GgufValue(GgufType.STRING, null, v);
    }

    /** An array whose elements are all of {@code elementType}, given as Long, Double, Boolean or String. */
    public static GgufValue array(GgufType elementType, List<?> values) {
        return new GgufValue(GgufType.ARRAY, elementType, List.copyOf(values));
    }

    public long asLong() {
        if (!(value instanceof Long l)) {
            throw new IllegalStateException("GGUF " + type + " value is not an integer");
        }
        return l;
    }

    public double asDouble() {
        if (value instanceof Double d) {
            return d;
        }
        if (value instanceof Long l) {
            return l;
        }
        throw new IllegalStateException("GGUF " + type + " value is not a number");
    }

    public String asString() {
        if (!(value instanceof String s)) {
            throw new IllegalStateException("GGUF " + type + " value is not a string");
        }
        return s;
    }

    public boolean asBoolean() {
        if (!(value instanceof Boolean b)) {
            throw new IllegalStateException("GGUF " + type + " value is not a boolean");
        }
        return b;
    }

    public List<?> asList() {
        if (!(value instanceof List<?> list)) {
            throw new IllegalStateException("GGUF " + type + " value is not an array");
        }
        return list;
    }
}
