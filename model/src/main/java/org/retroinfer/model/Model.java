package org.retroinfer.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.retroinfer.model.chat.ChatTemplate;
import org.retroinfer.model.config.GenerationDefaults;
import org.retroinfer.model.config.GgufConfig;
import org.retroinfer.model.config.HuggingFaceConfig;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.tokenizer.Tokenizer;
import org.retroinfer.model.transformer.ModelWeights;
import org.retroinfer.model.transformer.TensorNames;
import org.retroinfer.model.transformer.Transformer;
import org.retroinfer.model.transformer.WeightBinder;
import org.retroinfer.model.weights.GgufFile;
import org.retroinfer.model.weights.GgufValue;
import org.retroinfer.model.weights.ModelFileException;
import org.retroinfer.model.weights.Tensor;
import org.retroinfer.model.weights.WeightFile;
import org.retroinfer.model.weights.WeightFiles;

/**
 * A model ready to run: its configuration, memory-mapped weights bound into a transformer, its
 * tokenizer, chat template and generation defaults, from a Hugging Face directory or a GGUF file.
 * Closing it unmaps the weights.
 */
public final class Model implements AutoCloseable {
    private final Path path;
    private final String format;
    private final WeightFile weights;
    private final ModelConfig config;
    private final Transformer transformer;
    private final Tokenizer tokenizer;
    private final GenerationDefaults generationDefaults;
    private final ChatTemplate chatTemplate;

    private Model(Path path, String format, WeightFile weights, ModelConfig config, Tokenizer tokenizer,
                  GenerationDefaults generationDefaults, ChatTemplate chatTemplate, TensorNames names) {
        this.path = path;
        this.format = format;
        this.weights = weights;
        this.config = config;
        this.tokenizer = tokenizer;
        this.generationDefaults = generationDefaults;
        this.chatTemplate = chatTemplate;
        if (tokenizer.vocabularySize() > config.vocabSize()) {
            throw new ModelFileException(path, "the tokenizer has " + tokenizer.vocabularySize()
                    + " tokens but the model only " + config.vocabSize() + "; tokenizer and weights do not belong together");
        }
        ModelWeights bound = new WeightBinder(weights, names).bind(config);
        this.transformer = new Transformer(config, bound);
    }

    /** Loads a Hugging Face model directory or a GGUF file. */
    public static Model load(Path path) {
        if (Files.isDirectory(path)) {
            return loadHuggingFace(path);
        }
        if (Files.isRegularFile(path) && path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf")) {
            return loadGguf(path);
        }
        if (Files.isRegularFile(path) && path.getParent() != null && Files.exists(path.resolveSibling("config.json"))) {
            throw new ModelFileException(path, "is one file of a Hugging Face model; give its directory "
                    + path.toAbsolutePath().getParent() + " instead");
        }
        throw new ModelFileException(path, "is neither a model directory (config.json, *.safetensors, tokenizer.json)"
                + " nor a .gguf file");
    }

    private static Model loadHuggingFace(Path dir) {
        ModelConfig config = HuggingFaceConfig.read(dir);
        Path tokenizerFile = dir.resolve("tokenizer.json");
        if (!Files.exists(tokenizerFile)) {
            throw new ModelFileException(tokenizerFile, "is missing; a Hugging Face model directory needs tokenizer.json");
        }
        Tokenizer tokenizer = Tokenizer.load(tokenizerFile);
        GenerationDefaults defaults = HuggingFaceConfig.readGeneration(dir);
        Path tokenizerConfig = dir.resolve("tokenizer_config.json");
        ChatTemplate chat = Files.exists(tokenizerConfig) ? ChatTemplate.find(tokenizerConfig).orElse(null) : null;
        WeightFile weights = WeightFiles.open(dir);
        try {
            return new Model(dir, "safetensors", weights, config, tokenizer, defaults, chat, TensorNames.HUGGING_FACE);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    private static Model loadGguf(Path file) {
        GgufFile gguf = GgufFile.open(file);
        try {
            Map<String, GgufValue> metadata = gguf.metadata().all();
            float[] ropeFactors = gguf.find("rope_freqs.weight").map(Tensor::toFloats).orElse(null);
            ModelConfig config = GgufConfig.read(file, metadata, name -> gguf.find(name).isPresent(), ropeFactors);
            Tokenizer tokenizer = Tokenizer.fromGguf(metadata);
            ChatTemplate chat = Optional.ofNullable(metadata.get("tokenizer.chat_template"))
                    .flatMap(v -> ChatTemplate.fromJinja(v.asString())).orElse(null);
            return new Model(file, "gguf", gguf, config, tokenizer, GgufConfig.generationDefaults(metadata), chat,
                    TensorNames.GGUF);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** "safetensors" or "gguf". */
    public String format() {
        return format;
    }

    public ModelConfig config() {
        return config;
    }

    public Transformer transformer() {
        return transformer;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public GenerationDefaults generationDefaults() {
        return generationDefaults;
    }

    public Optional<ChatTemplate> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    /** Bytes of all tensors in the weights file(s). */
    public long weightBytes() {
        long total = 0;
        for (String name : weights.tensorNames()) {
            total += weights.require(name).data().byteSize();
        }
        return total;
    }

    @Override
    public void close() {
        weights.close();
    }
}
