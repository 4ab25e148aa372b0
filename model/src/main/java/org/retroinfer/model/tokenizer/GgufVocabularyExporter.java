package org.retroinfer.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.retroinfer.model.weights.GgufType;
import org.retroinfer.model.weights.GgufValue;
import org.retroinfer.model.weights.ModelFileException;

/**
 * Writes a tokenizer.json as GGUF keys the way llama.cpp's {@code convert_hf_to_gguf.py} does:
 * byte-level BPE as {@code gpt2} ({@code _set_vocab_gpt2}) and SentencePiece-style BPE as
 * {@code llama} ({@code _set_vocab_sentencepiece}), with gguf-py's {@code SpecialVocab} for the
 * special tokens. Two choices differ from the converter, both so that llama.cpp and
 * {@link Tokenizer#fromGguf} encode exactly as the tokenizer.json does: add_bos_token and
 * add_eos_token are always written (from the post-processor), because llama.cpp's defaults differ
 * per vocabulary; and {@code llama} scores come from the merge ranks (a token made by the merge of
 * rank r scores -r, others score below every merge), because there is no SentencePiece model file
 * to take them from.
 */
final class GgufVocabularyExporter {
    private static final String P = GgufTokenizerReader.PREFIX;
    private static final List<String> SPECIAL_TYPES = List.of("bos", "eos", "unk", "sep", "pad", "cls", "mask");
    private static final Map<String, String> ID_KEYS = Map.of("bos", "bos_token_id", "eos", "eos_token_id",
            "unk", "unknown_token_id", "sep", "seperator_token_id", "pad", "padding_token_id",
            "cls", "cls_token_id", "mask", "mask_token_id");

    private final Path file;

    GgufVocabularyExporter(Path file) {
        this.file = file;
    }

    Map<String, GgufValue> export() {
        TokenizerJson.Contents contents = TokenizerJson.read(file);
        TokenizerJson.build(contents); // rejects what we cannot encode, with its own messages
        JsonNode root = contents.root();
        JsonNode config = readOptionalJson(file.resolveSibling("tokenizer_config.json"));
        JsonNode modelConfig = readOptionalJson(file.resolveSibling("config.json"));
        JsonNode model = contents.model();
        boolean sentencePiece = model.path("byte_fallback").asBoolean(false);

        Map<Integer, String> byId = new HashMap<>();
        contents.vocab().forEach((token, id) -> byId.put(id, token));
        Map<Integer, JsonNode> added = new HashMap<>();
        for (JsonNode t : root.path("added_tokens")) {
            added.put(t.path("id").asInt(), t);
            byId.put(t.path("id").asInt(), t.path("content").asText());
        }
        int size = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        size = Math.max(size, modelConfig.path("vocab_size").asInt(0));

        List<String> tokens = new ArrayList<>(size);
        List<Long> types = new ArrayList<>(size);
        String unkToken = model.path("unk_token").isTextual() ? model.path("unk_token").asText() : null;
        for (int i = 0; i < size; i++) {
            String token = byId.get(i);
            if (token == null) {
                tokens.add("[PAD" + i + "]");
                types.add((long) GgufTokenType.UNUSED.code());
                continue;
            }
            tokens.add(token);
            types.add((long) tokenType(token, added.get(i), sentencePiece, unkToken).code());
        }

        Map<String, GgufValue> out = new LinkedHashMap<>();
        if (sentencePiece) {
            checkSentencePieceShape(root);
            out.put(P + "model", GgufValue.string("llama"));
            out.put(P + "pre", GgufValue.string("default"));
            out.put(P + "tokens", GgufValue.array(GgufType.STRING, tokens));
            out.put(P + "scores", GgufValue.array(GgufType.FLOAT32, scores(contents, size)));
            out.put(P + "token_type", GgufValue.array(GgufType.INT32, types));
        } else {
            out.put(P + "model", GgufValue.string("gpt2"));
            out.put(P + "pre", GgufValue.string(byteLevelPre(root).ggufName()));
            out.put(P + "tokens", GgufValue.array(GgufType.STRING, tokens));
            out.put(P + "token_type", GgufValue.array(GgufType.INT32, types));
            out.put(P + "merges", GgufValue.array(GgufType.STRING, merges(contents.merges())));
        }
        addSpecialTokens(root, config, modelConfig, size, out);
        addChatTemplates(config, out);
        return out;
    }

    /** gguf-py's rules: byte tokens BYTE, the unknown token UNKNOWN, added tokens CONTROL or USER_DEFINED. */
    private static GgufTokenType tokenType(String token, JsonNode added, boolean sentencePiece, String unkToken) {
        if (sentencePiece && BpeModel.byteTokenValue(token) >= 0) {
            return GgufTokenType.BYTE;
        }
        if (sentencePiece && token.equals(unkToken)) {
            return GgufTokenType.UNKNOWN;
        }
        if (added == null) {
            return GgufTokenType.NORMAL;
        }
        boolean special = added.path("special").asBoolean(false) || looksSpecial(token);
        return special ? GgufTokenType.CONTROL : GgufTokenType.USER_DEFINED;
    }

    /** The converter's {@code does_token_look_special}: added tokens some models forget to mark special. */
    private static boolean looksSpecial(String t) {
        return List.of("<pad>", "<mask>", "<2mass>", "[@BOS@]").contains(t)
                || (t.startsWith("<|") && t.endsWith("|>"))
                || (t.startsWith("<\uFF5C") && t.endsWith("\uFF5C>"))
                || (t.startsWith("<unused") && t.endsWith(">"));
    }

    /** The GGUF pre-tokenizer that reproduces the tokenizer.json's normalizer and pre-tokenizer exactly. */
    private GgufPreTokenizer byteLevelPre(JsonNode root) {
        JsonNode pre = root.path("pre_tokenizer");
        String normalizer = root.path("normalizer").isNull() || root.path("normalizer").isMissingNode()
                ? "none" : root.path("normalizer").path("type").asText();
        boolean ignoreMerges = root.path("model").path("ignore_merges").asBoolean(false);
        GgufPreTokenizer found = null;
        if (pre.path("type").asText().equals("ByteLevel") && pre.path("use_regex").asBoolean(true)
                && !pre.path("add_prefix_space").asBoolean(true)) {
            found = GgufPreTokenizer.GPT2;
        } else if (pre.path("type").asText().equals("Sequence") && pre.path("pretokenizers").size() == 2) {
            JsonNode split = pre.path("pretokenizers").get(0);
            JsonNode byteLevel = pre.path("pretokenizers").get(1);
            boolean shape = split.path("type").asText().equals("Split")
                    && split.path("behavior").asText().equals("Isolated") && !split.path("invert").asBoolean(false)
                    && byteLevel.path("type").asText().equals("ByteLevel")
                    && !byteLevel.path("use_regex").asBoolean(true) && !byteLevel.path("add_prefix_space").asBoolean(true);
            String regex = split.path("pattern").path("Regex").asText(null);
            for (GgufPreTokenizer p : GgufPreTokenizer.values()) {
                if (shape && regex != null && regex.equals(p.tokenizerJsonRegex())) {
                    found = p;
                }
            }
        }
        if (found == null) {
            throw new ModelFileException(file, "its pre-tokenizer " + pre + " has no GGUF tokenizer.ggml.pre equivalent; "
                    + "supported: Llama 3's and Qwen2's Split regex followed by ByteLevel, and GPT-2's ByteLevel");
        }
        String expectedNormalizer = found == GgufPreTokenizer.QWEN2 ? "NFC" : "none";
        if (!normalizer.equals(expectedNormalizer) || ignoreMerges != found.ignoreMerges()) {
            throw new ModelFileException(file, "normalizer " + normalizer + " with ignore_merges " + ignoreMerges
                    + " does not match GGUF pre-tokenizer " + found.ggufName() + ", which implies normalizer "
                    + expectedNormalizer + " and ignore_merges " + found.ignoreMerges());
        }
        return found;
    }

    /** llama.cpp prepends a space to every stretch of text and writes spaces as '▁', nothing else. */
    private void checkSentencePieceShape(JsonNode root) {
        JsonNode n = root.path("normalizer");
        boolean ok = n.path("type").asText().equals("Sequence") && n.path("normalizers").size() == 2
                && n.path("normalizers").get(0).path("type").asText().equals("Prepend")
                && n.path("normalizers").get(0).path("prepend").asText().equals("\u2581")
                && n.path("normalizers").get(1).path("type").asText().equals("Replace")
                && n.path("normalizers").get(1).path("pattern").path("String").asText().equals(" ")
                && n.path("normalizers").get(1).path("content").asText().equals("\u2581")
                && (root.path("pre_tokenizer").isNull() || root.path("pre_tokenizer").isMissingNode());
        if (!ok) {
            throw new ModelFileException(file, "a SentencePiece-style tokenizer exports to GGUF only with normalizer "
                    + "Sequence[Prepend('\u2581'), Replace(' ', '\u2581')] and no pre-tokenizer, which is what llama.cpp "
                    + "does; this one has normalizer " + n + " and pre-tokenizer " + root.path("pre_tokenizer"));
        }
    }

    private static List<Double> scores(TokenizerJson.Contents contents, int size) {
        List<String[]> merges = contents.merges();
        double unmerged = -(double) merges.size();
        double[] score = new double[size];
        java.util.Arrays.fill(score, unmerged);
        for (int rank = 0; rank < merges.size(); rank++) {
            Integer id = contents.vocab().get(merges.get(rank)[0] + merges.get(rank)[1]);
            if (id != null && score[id] == unmerged) {
                score[id] = -rank;
            }
        }
        List<Double> out = new ArrayList<>(size);
        for (double s : score) {
            out.add(s);
        }
        return out;
    }

    /** Merges as "left right"; a space inside a token is written as U+0120, as gguf-py does. */
    private static List<String> merges(List<String[]> merges) {
        List<String> out = new ArrayList<>(merges.size());
        for (String[] m : merges) {
            out.add(m[0].replace(' ', '\u0120') + " " + m[1].replace(' ', '\u0120'));
        }
        return out;
    }

    private void addSpecialTokens(JsonNode root, JsonNode config, JsonNode modelConfig, int size, Map<String, GgufValue> out) {
        Map<String, Integer> contentIds = new HashMap<>();
        for (JsonNode t : root.path("added_tokens")) {
            contentIds.putIfAbsent(t.path("content").asText(), t.path("id").asInt());
        }
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (String type : SPECIAL_TYPES) {
            JsonNode entry = config.path(type + "_token");
            String content = entry.isTextual() ? entry.asText() : entry.path("content").asText(null);
            if (content != null && contentIds.containsKey(content) && contentIds.get(content) < size) {
                ids.put(type, contentIds.get(content));
            }
        }
        for (String type : SPECIAL_TYPES) {
            JsonNode id = modelConfig.path(type + "_token_id");
            if (!ids.containsKey(type) && id.canConvertToInt() && id.asInt() >= 0 && id.asInt() < size) {
                ids.put(type, id.asInt());
            }
        }
        int[] around = templateSpecials(root.path("post_processor"));
        int before = around[0];
        int after = around[1];
        if (before >= 0) {
            ids.putIfAbsent("bos", before);
            if (ids.get("bos") != before) {
                throw new ModelFileException(file, "the post-processor starts with token " + before
                        + " but the BOS token is " + ids.get("bos") + "; GGUF can only add the BOS token");
            }
        }
        if (after >= 0) {
            ids.putIfAbsent("eos", after);
            if (ids.get("eos") != after) {
                throw new ModelFileException(file, "the post-processor ends with token " + after
                        + " but the EOS token is " + ids.get("eos") + "; GGUF can only add the EOS token");
            }
        }
        ids.forEach((type, id) -> out.put(P + ID_KEYS.get(type), GgufValue.uint32(id)));
        out.put(P + "add_bos_token", GgufValue.bool(before >= 0));
        out.put(P + "add_eos_token", GgufValue.bool(after >= 0));
    }

    /** The one special token the single template puts before and after the text (-1 for none). */
    private int[] templateSpecials(JsonNode processor) {
        int[] found = {-1, -1};
        List<JsonNode> processors = new ArrayList<>();
        if (processor.path("type").asText().equals("Sequence")) {
            processor.path("processors").forEach(processors::add);
        } else {
            processors.add(processor);
        }
        for (JsonNode p : processors) {
            if (!p.path("type").asText().equals("TemplateProcessing")) {
                continue;
            }
            boolean seenSequence = false;
            List<Integer> before = new ArrayList<>();
            List<Integer> after = new ArrayList<>();
            for (JsonNode item : p.path("single")) {
                if (item.has("Sequence")) {
                    seenSequence = true;
                } else {
                    List<Integer> side = seenSequence ? after : before;
                    p.path("special_tokens").path(item.path("SpecialToken").path("id").asText()).path("ids")
                            .forEach(id -> side.add(id.asInt()));
                }
            }
            if (before.size() > 1 || after.size() > 1) {
                throw new ModelFileException(file, "the post-processor adds " + before + " before and " + after
                        + " after the text; GGUF can only express one BOS and one EOS token");
            }
            found[0] = before.isEmpty() ? -1 : before.getFirst();
            found[1] = after.isEmpty() ? -1 : after.getFirst();
        }
        return found;
    }

    private static void addChatTemplates(JsonNode config, Map<String, GgufValue> out) {
        JsonNode template = config.path("chat_template");
        if (template.isTextual()) {
            out.put("tokenizer.chat_template", GgufValue.string(template.asText()));
        } else if (template.isArray()) {
            for (JsonNode named : template) {
                String name = named.path("name").asText();
                String key = name.equals("default") ? "tokenizer.chat_template" : "tokenizer.chat_template." + name;
                out.put(key, GgufValue.string(named.path("template").asText()));
            }
        }
    }

    private static JsonNode readOptionalJson(Path path) {
        if (!Files.isRegularFile(path)) {
            return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
        }
        try (var in = Files.newInputStream(path)) {
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new ModelFileException(path, "cannot be read as JSON: " + e.getMessage(), e);
        }
    }
}
