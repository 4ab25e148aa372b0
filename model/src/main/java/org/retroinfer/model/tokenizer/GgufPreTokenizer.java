package org.retroinfer.model.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The byte-level BPE pre-tokenizers a GGUF file names in {@code tokenizer.ggml.pre}, with llama.cpp's
 * regexes for them ({@code llm_tokenizer_bpe}). Each regex splits the pieces the previous one made,
 * keeping unmatched text as pieces of its own.
 */
enum GgufPreTokenizer {
    /** Llama 3: tokenizer.json's {@code (?i:'s|...)} spelled out case by case, as llama.cpp does. */
    LLAMA_BPE(List.of("llama-bpe", "llama3", "llama-v3"), List.of(
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            true, true),
    /** Qwen2 and Qwen3: like Llama 3 but one digit per piece. */
    QWEN2(List.of("qwen2", "deepseek-r1-qwen"), List.of(
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            false, false),
    /** GPT-2's regex, as its tokenizer.json's ByteLevel pre-tokenizer applies it. */
    GPT2(List.of("gpt-2"), List.of(PreTokenizer.GPT2_REGEX), null, false, false),
    /** llama.cpp's fallback for BPE vocabularies that name no pre-tokenizer. */
    DEFAULT(List.of("default"), List.of(
            "[\\p{P}\\$\\+<=>\\^~\\|]+",
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
            "\\p{N}+",
            "[0-9][0-9][0-9]"), null, false, false);

    private final List<String> names;
    private final List<String> regexes;
    private final String tokenizerJsonRegex;
    private final boolean ignoreMerges;
    private final boolean addsBosByDefault;

    GgufPreTokenizer(List<String> names, List<String> regexes, String tokenizerJsonRegex, boolean ignoreMerges,
                     boolean addsBosByDefault) {
        this.names = names;
        this.regexes = regexes;
        this.tokenizerJsonRegex = tokenizerJsonRegex;
        this.ignoreMerges = ignoreMerges;
        this.addsBosByDefault = addsBosByDefault;
    }

    /** The name written to {@code tokenizer.ggml.pre}. */
    String ggufName() {
        return names.getFirst();
    }

    boolean ignoreMerges() {
        return ignoreMerges;
    }

    /** llama.cpp's default for {@code add_bos} when the file does not say. */
    boolean addsBosByDefault() {
        return addsBosByDefault;
    }

    /** The regex of the tokenizer.json {@code Split} this pre-tokenizer reproduces, or null. */
    String tokenizerJsonRegex() {
        return tokenizerJsonRegex;
    }

    /**
     * Qwen's tokenizer.json normalizes to NFC; llama.cpp skips that step, which changes the ids of
     * decomposed text. We keep the model's own normalization.
     */
    Normalizer normalizer() {
        return this == QWEN2 ? new Normalizer.UnicodeForm(java.text.Normalizer.Form.NFC) : new Normalizer.Identity();
    }

    PreTokenizer preTokenizer() {
        List<PreTokenizer> steps = new ArrayList<>();
        for (String r : regexes) {
            steps.add(new PreTokenizer.Split(PreTokenizer.compile(r), SplitBehavior.ISOLATED, false));
        }
        steps.add(new PreTokenizer.ByteLevel(false, false));
        return new PreTokenizer.Sequence(steps);
    }

    static GgufPreTokenizer ofName(String name) {
        for (GgufPreTokenizer p : values()) {
            if (p.names.contains(name)) {
                return p;
            }
        }
        return null;
    }

    static String supportedNames() {
        List<String> all = new ArrayList<>();
        for (GgufPreTokenizer p : values()) {
            all.addAll(p.names);
        }
        return String.join(", ", all);
    }
}
