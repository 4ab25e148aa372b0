package org.retroinfer.model.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.retroinfer.model.weights.ModelFileException;

/**
 * Reads a Hugging Face {@code tokenizer.json} into a {@link BpeTokenizer}. Supports BPE models
 * (byte-level as in Llama 3, Qwen2/3 and GPT-2; SentencePiece-style with byte fallback as in
 * Mistral and Llama 2) and the normalizers, pre-tokenizers, post-processors and decoders those use;
 * anything else is rejected with a message naming it and what is supported.
 */
final class TokenizerJson {
    static final String SUPPORTED_MODELS = "BPE (byte-level as in Llama 3, Qwen2/3 and GPT-2, or "
            + "SentencePiece-style with byte fallback as in Mistral)";

    /**
     * The parts of a tokenizer.json: the model's vocabulary and merges, read by streaming (they
     * are most of a 10 MB file), and everything else as small JSON trees.
     */
    record Contents(Path file, Map<String, Integer> vocab, List<String[]> merges, JsonNode model, JsonNode root) {
    }

    private final Path file;

    private TokenizerJson(Path file) {
        this.file = file;
    }

    static BpeTokenizer load(Path file) {
        return build(read(file));
    }

    static BpeTokenizer build(Contents contents) {
        return new TokenizerJson(contents.file()).parse(contents);
    }

    static Contents read(Path file) {
        try (var in = Files.newInputStream(file); JsonParser p = new JsonFactory().createParser(in)) {
            return new TokenizerJson(file).readContents(p);
        } catch (NoSuchFileException e) {
            throw new ModelFileException(file, "tokenizer file not found");
        } catch (IOException e) {
            throw new ModelFileException(file, "is not a readable tokenizer.json: " + e.getMessage(), e);
        }
    }

    private Contents readContents(JsonParser p) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        if (p.nextToken() != JsonToken.START_OBJECT) {
            throw fail("is not a tokenizer.json: the top level must be a JSON object");
        }
        ObjectNode root = mapper.createObjectNode();
        ObjectNode model = null;
        Map<String, Integer> vocab = null;
        List<String[]> merges = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            p.nextToken();
            if (!field.equals("model") || p.currentToken() != JsonToken.START_OBJECT) {
                root.set(field, mapper.readTree(p));
                continue;
            }
            model = mapper.createObjectNode();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if (name.equals("vocab") && t == JsonToken.START_OBJECT) {
                    vocab = readVocab(p);
                } else if (name.equals("merges") && t == JsonToken.START_ARRAY) {
                    merges = readMerges(p);
                } else {
                    model.set(name, mapper.readTree(p));
                }
            }
            root.set("model", model);
        }
        if (model == null) {
            throw fail("field model is missing");
        }
        return new Contents(file, vocab, merges, model, root);
    }

    private Map<String, Integer> readVocab(JsonParser p) throws IOException {
        Map<String, Integer> vocab = new HashMap<>(1 << 18);
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String token = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_NUMBER_INT || p.getIntValue() < 0) {
                throw fail("model.vocab gives token " + token + " the id " + p.getText() + "; ids are integers >= 0");
            }
            vocab.put(token, p.getIntValue());
        }
        return vocab;
    }

    /** Merges as "left right" strings or [left, right] pairs. */
    private List<String[]> readMerges(JsonParser p) throws IOException {
        List<String[]> merges = new ArrayList<>(1 << 18);
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            int n = merges.size() + 1;
            if (t == JsonToken.VALUE_STRING) {
                String m = p.getText();
                int space = m.indexOf(' ');
                if (space < 0 || m.indexOf(' ', space + 1) >= 0) {
                    throw fail("merge " + n + " (\"" + m + "\") is not two tokens separated by one space");
                }
                merges.add(new String[] {m.substring(0, space), m.substring(space + 1)});
            } else if (t == JsonToken.START_ARRAY) {
                String left = p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                String right = p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                if (left == null || right == null || p.nextToken() != JsonToken.END_ARRAY) {
                    throw fail("merge " + n + " is not a [left, right] pair of strings");
                }
                merges.add(new String[] {left, right});
            } else {
                throw fail("merge " + n + " is neither \"left right\" nor [left, right]");
            }
        }
        return merges;
    }

    private BpeTokenizer parse(Contents contents) {
        JsonNode root = contents.root();
        JsonNode model = contents.model();
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw fail("tokenizer model type " + type + " is not supported; supported: " + SUPPORTED_MODELS);
        }
        if (contents.vocab() == null) {
            throw fail("field model.vocab is missing");
        }
        if (contents.merges() == null) {
            throw fail("field model.merges is missing");
        }
        Map<String, Integer> vocab = contents.vocab();
        List<AddedToken> added = addedTokens(root.path("added_tokens"));
        Normalizer normalizer = normalizer(root.path("normalizer"));
        PreTokenizer preTokenizer = preTokenizer(root.path("pre_tokenizer"));
        PostProcessor postProcessor = postProcessor(root.path("post_processor"));
        Decoder decoder = decoder(root.path("decoder"));
        return new BpeTokenizer(vocab, added, normalizer, preTokenizer, bpeModel(model, vocab, contents.merges()),
                postProcessor, decoder);
    }

    private BpeModel bpeModel(JsonNode model, Map<String, Integer> vocab, List<String[]> mergeList) {
        JsonNode dropout = model.path("dropout");
        if (dropout.isNumber() && dropout.asDouble() > 0) {
            throw fail("BPE dropout " + dropout.asDouble() + " makes encoding random; set it to null for inference");
        }
        String prefix = model.path("continuing_subword_prefix").asText("");
        String suffix = model.path("end_of_word_suffix").asText("");
        PairMergeMap merges = merges(mergeList, vocab, prefix);
        int unkId = -1;
        JsonNode unk = model.path("unk_token");
        if (unk.isTextual()) {
            Integer id = vocab.get(unk.asText());
            if (id == null) {
                throw fail("the BPE unk_token " + unk.asText() + " is not in the vocabulary");
            }
            unkId = id;
        }
        return new BpeModel(vocab, merges, model.path("byte_fallback").asBoolean(false), unkId,
                model.path("fuse_unk").asBoolean(false), model.path("ignore_merges").asBoolean(false), prefix, suffix);
    }

    /** The merge table; a merge's rank is its position in the list. */
    private PairMergeMap merges(List<String[]> list, Map<String, Integer> vocab, String prefix) {
        PairMergeMap merges = new PairMergeMap(list.size());
        for (int rank = 0; rank < list.size(); rank++) {
            String left = list.get(rank)[0];
            String right = list.get(rank)[1];
            String merged = left + right.substring(Math.min(prefix.length(), right.length()));
            merges.put(tokenId(vocab, left, rank), tokenId(vocab, right, rank), rank, tokenId(vocab, merged, rank));
        }
        return merges;
    }

    private int tokenId(Map<String, Integer> vocab, String token, int rank) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw fail("merge " + (rank + 1) + " uses " + token + ", which is not in the vocabulary");
        }
        return id;
    }

    private List<AddedToken> addedTokens(JsonNode node) {
        List<AddedToken> out = new ArrayList<>();
        if (node.isMissingNode() || node.isNull()) {
            return out;
        }
        for (JsonNode t : node) {
            if (!t.path("id").canConvertToInt() || !t.path("content").isTextual() || t.path("content").asText().isEmpty()) {
                throw fail("added token " + t + " needs an integer id and non-empty content");
            }
            out.add(new AddedToken(t.path("id").asInt(), t.path("content").asText(), t.path("special").asBoolean(false),
                    t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false),
                    t.path("single_word").asBoolean(false), t.path("normalized").asBoolean(!t.path("special").asBoolean(false))));
        }
        return out;
    }

    private Normalizer normalizer(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return new Normalizer.Identity();
        }
        String type = node.path("type").asText();
        return switch (type) {
            case "NFC" -> new Normalizer.UnicodeForm(java.text.Normalizer.Form.NFC);
            case "NFD" -> new Normalizer.UnicodeForm(java.text.Normalizer.Form.NFD);
            case "NFKC" -> new Normalizer.UnicodeForm(java.text.Normalizer.Form.NFKC);
            case "NFKD" -> new Normalizer.UnicodeForm(java.text.Normalizer.Form.NFKD);
            case "Prepend" -> new Normalizer.Prepend(require(node, "prepend").asText());
            case "Replace" -> new Normalizer.Replace(pattern(node, "normalizer Replace"), node.path("content").asText(""));
            case "Sequence" -> {
                List<Normalizer> steps = new ArrayList<>();
                for (JsonNode n : require(node, "normalizers")) {
                    steps.add(normalizer(n));
                }
                yield new Normalizer.Sequence(steps);
            }
            default -> throw fail("normalizer " + type + " is not supported; supported: NFC, NFD, NFKC, NFKD, Prepend, Replace, Sequence");
        };
    }

    private PreTokenizer preTokenizer(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return new PreTokenizer.None();
        }
        String type = node.path("type").asText();
        return switch (type) {
            case "Split" -> {
                SplitBehavior behavior = SplitBehavior.ofJsonName(node.path("behavior").asText());
                if (behavior == null) {
                    throw fail("pre-tokenizer Split has behavior " + node.path("behavior")
                            + "; supported: Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
                }
                yield new PreTokenizer.Split(pattern(node, "pre-tokenizer Split"), behavior, node.path("invert").asBoolean(false));
            }
            case "ByteLevel" -> new PreTokenizer.ByteLevel(node.path("add_prefix_space").asBoolean(true),
                    node.path("use_regex").asBoolean(true));
            case "Metaspace" -> new PreTokenizer.Metaspace(replacement(node), prependScheme(node), node.path("split").asBoolean(true));
            case "Sequence" -> {
                List<PreTokenizer> steps = new ArrayList<>();
                for (JsonNode n : require(node, "pretokenizers")) {
                    steps.add(preTokenizer(n));
                }
                yield new PreTokenizer.Sequence(steps);
            }
            default -> throw fail("pre-tokenizer " + type + " is not supported; supported: Split, ByteLevel, Metaspace, Sequence");
        };
    }

    private PostProcessor postProcessor(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return new PostProcessor.None();
        }
        String type = node.path("type").asText();
        return switch (type) {
            case "ByteLevel" -> new PostProcessor.None();
            case "TemplateProcessing" -> template(node);
            case "Sequence" -> {
                List<PostProcessor> steps = new ArrayList<>();
                for (JsonNode n : require(node, "processors")) {
                    steps.add(postProcessor(n));
                }
                yield new PostProcessor.Sequence(steps);
            }
            default -> throw fail("post-processor " + type + " is not supported; supported: TemplateProcessing, ByteLevel, Sequence");
        };
    }

    /** The single-sequence template: special tokens around exactly one "A" sequence. */
    private PostProcessor template(JsonNode node) {
        List<Integer> before = new ArrayList<>();
        List<Integer> after = new ArrayList<>();
        boolean seenSequence = false;
        for (JsonNode item : require(node, "single")) {
            if (item.has("Sequence")) {
                if (seenSequence) {
                    throw fail("post-processor TemplateProcessing: the single template has two sequences");
                }
                seenSequence = true;
            } else if (item.has("SpecialToken")) {
                String name = item.path("SpecialToken").path("id").asText();
                JsonNode ids = node.path("special_tokens").path(name).path("ids");
                if (!ids.isArray() || ids.isEmpty()) {
                    throw fail("post-processor TemplateProcessing uses special token " + name + " without ids in special_tokens");
                }
                for (JsonNode id : ids) {
                    (seenSequence ? after : before).add(id.asInt());
                }
            } else {
                throw fail("post-processor TemplateProcessing has an unknown template item " + item);
            }
        }
        return new PostProcessor.Template(before.stream().mapToInt(Integer::intValue).toArray(),
                after.stream().mapToInt(Integer::intValue).toArray());
    }

    private Decoder decoder(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return new Decoder.None();
        }
        String type = node.path("type").asText();
        return switch (type) {
            case "ByteLevel" -> new Decoder.ByteLevel();
            case "ByteFallback" -> new Decoder.ByteFallback();
            case "Fuse" -> new Decoder.Fuse();
            case "Replace" -> {
                JsonNode p = node.path("pattern");
                if (!p.path("String").isTextual()) {
                    throw fail("decoder Replace needs a String pattern, got " + p);
                }
                yield new Decoder.Replace(p.path("String").asText(), node.path("content").asText(""));
            }
            case "Strip" -> {
                String content = require(node, "content").asText();
                if (content.length() != 1) {
                    throw fail("decoder Strip content must be one character, got \"" + content + "\"");
                }
                yield new Decoder.Strip(content.charAt(0), node.path("start").asInt(0), node.path("stop").asInt(0));
            }
            case "Metaspace" -> new Decoder.Metaspace(replacement(node), !prependScheme(node).equals("never"));
            case "Sequence" -> {
                List<Decoder> steps = new ArrayList<>();
                for (JsonNode n : require(node, "decoders")) {
                    steps.add(decoder(n));
                }
                yield new Decoder.Sequence(steps);
            }
            default -> throw fail("decoder " + type + " is not supported; supported: ByteLevel, ByteFallback, Fuse, "
                    + "Replace, Strip, Metaspace, Sequence");
        };
    }

    private char replacement(JsonNode node) {
        String r = node.path("replacement").asText("\u2581");
        if (r.length() != 1) {
            throw fail("Metaspace replacement must be one character, got \"" + r + "\"");
        }
        return r.charAt(0);
    }

    /** The prepend scheme, or the older {@code add_prefix_space} flag it replaced. */
    private String prependScheme(JsonNode node) {
        if (node.has("prepend_scheme")) {
            String scheme = node.path("prepend_scheme").asText();
            if (!List.of("always", "first", "never").contains(scheme)) {
                throw fail("Metaspace prepend_scheme " + scheme + " is not one of always, first, never");
            }
            return scheme;
        }
        return node.path("add_prefix_space").asBoolean(true) ? "always" : "never";
    }

    private Pattern pattern(JsonNode node, String what) {
        JsonNode p = node.path("pattern");
        if (p.path("String").isTextual()) {
            return Pattern.compile(Pattern.quote(p.path("String").asText()));
        }
        if (p.path("Regex").isTextual()) {
            try {
                return PreTokenizer.compile(p.path("Regex").asText());
            } catch (PatternSyntaxException e) {
                throw fail(what + " regex " + p.path("Regex").asText() + " does not compile: " + e.getDescription());
            }
        }
        throw fail(what + " needs a pattern {\"String\": ...} or {\"Regex\": ...}, got " + p);
    }

    private JsonNode require(JsonNode node, String field) {
        JsonNode v = node.path(field);
        if (v.isMissingNode() || v.isNull()) {
            throw fail("field " + field + " is missing");
        }
        return v;
    }

    private ModelFileException fail(String problem) {
        return new ModelFileException(file, problem);
    }
}
