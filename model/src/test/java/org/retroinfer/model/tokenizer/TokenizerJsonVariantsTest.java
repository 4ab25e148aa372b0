package org.retroinfer.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Features the three real files do not exercise, each checked against the Hugging Face library on
 * a variant of a small trained byte-level tokenizer or of Mistral's tokenizer.json: added-token
 * flags, ByteLevel's prefix space, BOS/EOS templates, Unicode normalizers and Metaspace.
 */
class TokenizerJsonVariantsTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final List<String> TEXTS = List.of("", " ", "hello world", "  two  spaces  ", "a<X>b", " <X> ",
            "word<X>word", "<X><X>", "x <X>\t\ny", "<Y>hi</Y>", "hey <Y> you", "<Y>", "ab<Z>cd", " <Z> ", "ﬁne ½ Ａ <X>",
            "e\u0301 é", "\u00A0<X>\u00A0", "mixed <Y><X> tokens<Z>", "line\n<X>\nline", GoldenTexts.SPECIALS);

    @TempDir
    static Path dir;
    private static Path base;

    @BeforeAll
    static void trainBase() {
        base = dir.resolve("base.json");
        ByteLevelBpeTrainer.train(ByteLevelBpeTrainerTest.corpus(3), 600, List.of("<|bos|>", "<|eos|>"), base);
    }

    private static Path variant(Path from, String name, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode root = (ObjectNode) MAPPER.readTree(from.toFile());
        edit.accept(root);
        Path file = dir.resolve(name + ".json");
        MAPPER.writeValue(file.toFile(), root);
        return file;
    }

    private static ObjectNode added(ObjectNode root, int id, String content, boolean special, boolean lstrip,
                                    boolean rstrip, boolean singleWord, boolean normalized) {
        ObjectNode t = ((ArrayNode) root.get("added_tokens")).addObject();
        t.put("id", id).put("content", content).put("single_word", singleWord).put("lstrip", lstrip)
                .put("rstrip", rstrip).put("normalized", normalized).put("special", special);
        return t;
    }

    private static void assertSameAsHuggingFace(Path file, List<String> texts) {
        Tokenizer ours = Tokenizer.load(file);
        List<String> all = new ArrayList<>(texts);
        all.add(GoldenTexts.fuzz(5).text());
        try (DjlReference reference = new DjlReference(file)) {
            for (String text : all) {
                for (boolean special : new boolean[] {false, true}) {
                    int[] expected = reference.encode(text, special);
                    assertArrayEquals(expected, ours.encode(text, special), file.getFileName() + ": [" + text + "] special=" + special);
                    for (boolean skip : new boolean[] {false, true}) {
                        assertEquals(reference.decode(expected, skip), ours.decode(expected, skip),
                                file.getFileName() + ": decode [" + text + "] skip=" + skip);
                    }
                }
            }
        }
    }

    @Test
    void addedTokenFlagsAreAppliedAsHuggingFaceDoes() throws IOException {
        Path file = variant(base, "flags", root -> {
            added(root, 600, "<X>", true, true, true, false, false);
            added(root, 601, "<Y>", false, false, true, true, false);
            added(root, 602, "</Y>", false, true, false, false, false);
            added(root, 603, "<Z>", true, false, false, true, false);
        });
        assertSameAsHuggingFace(file, TEXTS);
    }

    @Test
    void byteLevelPrefixSpaceGoesOnEveryStretchBetweenAddedTokens() throws IOException {
        Path file = variant(base, "prefix", root -> {
            ((ObjectNode) root.get("pre_tokenizer")).put("add_prefix_space", true);
            added(root, 600, "<X>", true, false, false, false, false);
        });
        assertSameAsHuggingFace(file, TEXTS);
    }

    /** Llama 3.1's layout: Sequence[ByteLevel, TemplateProcessing] adding BOS, here with an EOS too. */
    @Test
    void templatePostProcessorAddsBosAndEos() throws IOException {
        Path file = variant(base, "template", root -> {
            ObjectNode template = MAPPER.createObjectNode().put("type", "TemplateProcessing");
            template.putArray("single").add(special("<|bos|>")).add(sequence("A")).add(special("<|eos|>"));
            template.putArray("pair").add(special("<|bos|>")).add(sequence("A")).add(sequence("B"));
            ObjectNode tokens = template.putObject("special_tokens");
            for (String name : List.of("<|bos|>", "<|eos|>")) {
                ObjectNode t = tokens.putObject(name).put("id", name);
                t.putArray("ids").add(name.equals("<|bos|>") ? 598 : 599);
                t.putArray("tokens").add(name);
            }
            ObjectNode sequence = MAPPER.createObjectNode().put("type", "Sequence");
            sequence.putArray("processors").add(root.get("post_processor")).add(template);
            root.set("post_processor", sequence);
        });
        assertSameAsHuggingFace(file, TEXTS);
        assertArrayEquals(new int[] {598, 599}, Tokenizer.load(file).encode("", true));
    }

    @Test
    void normalizersApplyToTextAndToNormalizedAddedTokens() throws IOException {
        for (String form : List.of("NFC", "NFD", "NFKC", "NFKD")) {
            Path file = variant(base, form, root -> {
                root.putObject("normalizer").put("type", form);
                added(root, 600, "<X>", false, false, false, false, true);
                added(root, 601, "ﬁ", false, false, false, false, true);
                added(root, 602, "<Y>", true, false, false, false, false);
            });
            assertSameAsHuggingFace(file, TEXTS);
        }
    }

    @Test
    void metaspacePreTokenizerAndDecoderMatchHuggingFace() throws IOException {
        Path mistral = TestData.tokenizerJson("mistral");
        for (String variant : List.of("always false", "first false", "first true", "never true")) {
            String scheme = variant.split(" ")[0];
            boolean split = Boolean.parseBoolean(variant.split(" ")[1]);
            Path file = variant(mistral, "metaspace-" + scheme + "-" + split, root -> {
                root.putNull("normalizer");
                ObjectNode meta = MAPPER.createObjectNode().put("type", "Metaspace").put("replacement", "\u2581")
                        .put("prepend_scheme", scheme).put("split", split);
                root.set("pre_tokenizer", meta);
                root.set("decoder", meta.deepCopy());
            });
            List<String> texts = new ArrayList<>(TEXTS);
            texts.addAll(List.of("   three leading", "</s>  after", "a</s>b", "<s> x</s>y z"));
            assertSameAsHuggingFace(file, texts);
        }
    }

    private static ObjectNode special(String id) {
        ObjectNode n = MAPPER.createObjectNode();
        n.putObject("SpecialToken").put("id", id).put("type_id", 0);
        return n;
    }

    private static ObjectNode sequence(String id) {
        ObjectNode n = MAPPER.createObjectNode();
        n.putObject("Sequence").put("id", id).put("type_id", 0);
        return n;
    }
}
