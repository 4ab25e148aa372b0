package org.retroinfer.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

    private final Path file;

    private TokenizerJson(Path file) {
        this.file = file;
    }

    static BpeTokenizer load(Path file) {
        JsonNode root;
        try (var in = Files.newInputStream(file)) {
            root = new ObjectMapper().readTree(in);
        } catch (NoSuchFileException e) {
            throw new ModelFileException(file, "tokenizer file not found");
        } catch (IOException e) {
            throw new ModelFileException(file, "is not a readable tokenizer.json: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFileException(file, "is not a tokenizer.json: the top level must be a JSON object");
        }
        return new TokenizerJson(file).parse(root);
    }

    private BpeTokenizer parse(JsonNode root) {
        JsonNode model = require(root, "model");
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw fail("tokenizer model type " + type + " is not supported; supported: " + SUPPORTED_MODELS);
        }
        Map<String, Integer> vocab = vocab(require(model, "vocab"));
        List<AddedToken> added = addedTokens(root.path("added_tokens"));
        Normalizer normalizer = normalizer(root.path("normalizer"));
        PreTokenizer preTokenizer = preTokenizer(root.path("pre_tokenizer"));
        PostProcessor postProcessor = postProcessor(root.path("post_processor"));
        Decoder decoder = decoder(root.path("decoder"));
        return new BpeTokenizer(vocab, added, normalizer, preTokenizer, bpeModel(model, vocab), postProcessor, decoder);
    }

    private BpeModel bpeModel(JsonNode model, Map<String, Integer> vocab) {
        JsonNode dropout = model.path("dropout");
        if (dropout.isNumber() && dropout.asDouble() > 0) {
            throw fail("BPE dropout " + dropout.asDouble() + " makes encoding random; set it to null for inference");
        }
        String prefix = model.path("continuing_subword_prefix").asText("");
        String suffix = model.path("end_of_word_suffix").asText("");
        PairMergeMap merges = merges(require(model, "merges"), vocab, prefix);
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

    private Map<String, Integer> vocab(JsonNode node) {
        if (!node.isObject()) {
            throw fail("model.vocab must be an object of token to id");
        }
        Map<String, Integer> vocab = new HashMap<>(node.size() * 2);
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw fail("model.vocab gives token " + e.getKey() + " the id " + e.getValue() + "; ids are integers >= 0");
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        return vocab;
    }

    /** Merges as "left right" strings or [left, right] pairs, ranked by their order. */
    private PairMergeMap merges(JsonNode node, Map<String, Integer> vocab, String prefix) {
        if (!node.isArray()) {
            throw fail("model.merges must be an array");
        }
        PairMergeMap merges = new PairMergeMap(node.size());
        int rank = 0;
        for (JsonNode m : node) {
            String left;
            String right;
            if (m.isTextual()) {
                String[] parts = m.asText().split(" ", -1);
                if (parts.length != 2) {
                    throw fail("merge " + (rank + 1) + " (\"" + m.asText() + "\") is not two tokens separated by one space");
                }
                left = parts[0];
                right = parts[1];
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                left = m.get(0).asText();
                right = m.get(1).asText();
            } else {
                throw fail("merge " + (rank + 1) + " is neither \"left right\" nor [left, right]: " + m);
            }
            String merged = left + right.substring(Math.min(prefix.length(), right.length()));
            merges.put(tokenId(vocab, left, rank), tokenId(vocab, right, rank), rank, tokenId(vocab, merged, rank));
            rank++;
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
