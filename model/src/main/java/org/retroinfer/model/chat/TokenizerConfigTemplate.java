package org.retroinfer.model.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;
import java.util.Optional;
import org.retroinfer.model.weights.ModelFileException;

/**
 * The chat template of a Hugging Face model directory: a {@code chat_template.jinja} beside
 * tokenizer_config.json if there is one (transformers lets it override the config's), else the
 * config's {@code chat_template}, a string or a list of named templates of which "default" is used.
 */
final class TokenizerConfigTemplate {
    static final String JINJA_FILE = "chat_template.jinja";

    private TokenizerConfigTemplate() {
    }

    static Optional<ChatTemplate> find(Path config, Clock clock) {
        Path jinjaFile = config.resolveSibling(JINJA_FILE);
        if (Files.isRegularFile(jinjaFile)) {
            try {
                return JinjaRecognizer.recognize(Files.readString(jinjaFile, StandardCharsets.UTF_8), clock);
            } catch (IOException e) {
                throw new ModelFileException(jinjaFile, "cannot be read: " + e.getMessage(), e);
            }
        }
        return templateSource(config, read(config)).flatMap(source -> JinjaRecognizer.recognize(source, clock));
    }

    private static JsonNode read(Path config) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(config.toFile());
        } catch (IOException e) {
            throw new ModelFileException(config, "is not a valid tokenizer_config.json: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFileException(config, "is not a valid tokenizer_config.json: the top level must be a JSON object");
        }
        return root;
    }

    private static Optional<String> templateSource(Path config, JsonNode root) {
        JsonNode template = root.path("chat_template");
        if (template.isMissingNode() || template.isNull()) {
            return Optional.empty();
        }
        if (template.isTextual()) {
            return Optional.of(template.asText());
        }
        if (template.isArray()) {
            for (JsonNode named : template) {
                if (!named.path("name").isTextual() || !named.path("template").isTextual()) {
                    throw new ModelFileException(config, "chat_template is a list whose entries must each have a"
                            + " string \"name\" and \"template\", got " + named);
                }
                if (named.path("name").asText().equals("default")) {
                    return Optional.of(named.path("template").asText());
                }
            }
            return Optional.empty();
        }
        throw new ModelFileException(config, "chat_template must be a string or a list of {name, template},"
                + " got a JSON " + template.getNodeType().toString().toLowerCase(Locale.ROOT));
    }
}
