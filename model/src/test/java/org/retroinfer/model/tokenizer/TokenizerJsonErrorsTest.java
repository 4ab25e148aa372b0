package org.retroinfer.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.retroinfer.model.weights.ModelFileException;

/** A tokenizer.json we cannot use is rejected with one message naming the file and the problem. */
class TokenizerJsonErrorsTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    static Path dir;
    private static Path base;

    @BeforeAll
    static void trainBase() {
        base = dir.resolve("base.json");
        ByteLevelBpeTrainer.train("hello world, hello tokenizer", 300, List.of("<|eos|>"), base);
    }

    private static ModelFileException loadVariant(String name, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode root = (ObjectNode) MAPPER.readTree(base.toFile());
        edit.accept(root);
        Path file = dir.resolve(name + ".json");
        MAPPER.writeValue(file.toFile(), root);
        ModelFileException e = assertThrows(ModelFileException.class, () -> Tokenizer.load(file));
        assertEquals(file, e.file());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        return e;
    }

    @ParameterizedTest
    @ValueSource(strings = {"Unigram", "WordPiece", "WordLevel"})
    void unsupportedModelTypeIsRejectedNamingItAndWhatIsSupported(String type) throws IOException {
        ModelFileException e = loadVariant(type, root -> ((ObjectNode) root.get("model")).put("type", type));
        assertTrue(e.getMessage().contains(type) && e.getMessage().contains("supported: BPE"), e.getMessage());
    }

    @Test
    void unsupportedPreTokenizerIsRejectedNamingIt() throws IOException {
        ModelFileException e = loadVariant("whitespace", root -> root.putObject("pre_tokenizer").put("type", "Whitespace"));
        assertTrue(e.getMessage().contains("pre-tokenizer Whitespace") && e.getMessage().contains("Split, ByteLevel"), e.getMessage());
    }

    @Test
    void mergeOfATokenOutsideTheVocabularyIsRejectedNamingTheMerge() throws IOException {
        ModelFileException e = loadVariant("badmerge", root -> {
            ArrayNode merges = (ArrayNode) root.get("model").get("merges");
            merges.insertArray(0).add("h").add("nowhere");
        });
        assertTrue(e.getMessage().contains("merge 1") && e.getMessage().contains("nowhere"), e.getMessage());
    }

    @Test
    void bpeDropoutIsRejectedBecauseItMakesEncodingRandom() throws IOException {
        ModelFileException e = loadVariant("dropout", root -> ((ObjectNode) root.get("model")).put("dropout", 0.1));
        assertTrue(e.getMessage().contains("dropout"), e.getMessage());
    }

    @Test
    void missingFileIsReportedWithItsPath() {
        Path missing = dir.resolve("nope/tokenizer.json");
        ModelFileException e = assertThrows(ModelFileException.class, () -> Tokenizer.load(missing));
        assertEquals(missing + ": tokenizer file not found", e.getMessage());
    }

    @Test
    void fileThatIsNotJsonIsReportedWithItsPath() throws IOException {
        Path file = dir.resolve("garbage.json");
        Files.writeString(file, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [");
        ModelFileException e = assertThrows(ModelFileException.class, () -> Tokenizer.load(file));
        assertTrue(e.getMessage().startsWith(file + ": is not a readable tokenizer.json"), e.getMessage());
    }
}
