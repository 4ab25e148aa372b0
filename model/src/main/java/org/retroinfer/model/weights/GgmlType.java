package org.retroinfer.model.weights;

import org.retroinfer.kernels.DType;

/** The ggml tensor type codes of GGUF files (enum ggml_type in ggml.h) that matter to RetroInfer. */
final class GgmlType {
    /** Type names by code, for messages; null where a code was never assigned or was retired. */
    private static final String[] NAMES = {
        "F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0", "Q8_1",
        "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
        "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M",
        "BF16", "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0", "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4",
    };

    static final String SUPPORTED = "F32, F16, BF16, Q8_0 and Q4_0";

    private GgmlType() {}

    /** The DType stored under this ggml code, or null where RetroInfer cannot read it. */
    static DType dtype(long code) {
        return switch ((int) Math.min(code, Integer.MAX_VALUE)) {
            case 0 -> DType.F32;
            case 1 -> DType.F16;
            case 2 -> DType.Q4_0;
            case 8 -> DType.Q8_0;
            case 30 -> DType.BF16;
            default -> null;
        };
    }

    static int code(DType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 8;
            case BF16 -> 30;
        };
    }

    /** "Q4_K (ggml type 12)", or "ggml type 99" for a code this table does not know. */
    static String describe(long code) {
        return code >= 0 && code < NAMES.length ? NAMES[(int) code] + " (ggml type " + code + ")" : "ggml type " + code;
    }
}
