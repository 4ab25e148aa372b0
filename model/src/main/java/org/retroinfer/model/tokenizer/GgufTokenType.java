package org.retroinfer.model.tokenizer;

/** The values of GGUF {@code tokenizer.ggml.token_type}, as llama.cpp and gguf-py number them. */
enum GgufTokenType {
    NORMAL(1), UNKNOWN(2), CONTROL(3), USER_DEFINED(4), UNUSED(5), BYTE(6);

    private final int code;

    GgufTokenType(int code) {
        this.code = code;
    }

    int code() {
        return code;
    }

    /** The type with this code; llama.cpp reads an unknown code as "undefined", which acts as normal. */
    static GgufTokenType ofCode(long code) {
        for (GgufTokenType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return NORMAL;
    }

    /** Whether llama.cpp splits the token out of the text before tokenizing (its "special token cache"). */
    boolean matchedInText() {
        return this == CONTROL || this == USER_DEFINED || this == UNKNOWN;
    }
}
