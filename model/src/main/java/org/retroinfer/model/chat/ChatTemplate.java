package org.retroinfer.model.chat;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Turns a conversation into the prompt text a model was fine-tuned on, exactly as the model's own
 * Jinja chat template renders it with Hugging Face transformers' {@code apply_chat_template} (for
 * system, user and assistant messages; tools are not supported). The text holds the special tokens
 * (BOS included where the template writes it), so encode it without adding BOS again.
 */
public interface ChatTemplate {
    /** The names {@link #forFamily} knows. */
    List<String> FAMILIES = List.of("llama", "qwen2", "qwen3", "mistral");

    /**
     * The prompt for these messages; with {@code addGenerationPrompt} it ends with the header that
     * opens the assistant's reply. Throws IllegalArgumentException for an empty conversation or one
     * the model's template refuses.
     */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);

    /** A short name: "llama3", "llama3.1", "llama3.2", "chatml", "qwen3" or "mistral". */
    String name();

    /**
     * The template of a tokenizer_config.json: empty if the file has no chat_template or one that is
     * not recognised. A {@code chat_template.jinja} beside it takes precedence, as in transformers.
     * A malformed file is a ModelFileException naming it.
     */
    static Optional<ChatTemplate> find(Path tokenizerConfigJson) {
        return TokenizerConfigTemplate.find(tokenizerConfigJson, Clock.systemDefaultZone());
    }

    /** The template whose Jinja source this is (as GGUF's tokenizer.chat_template holds it), or empty if not recognised. */
    static Optional<ChatTemplate> fromJinja(String jinjaSource) {
        return JinjaRecognizer.recognize(jinjaSource, Clock.systemDefaultZone());
    }

    /**
     * By family, for models that carry no template: "llama" (the Llama 3 Instruct template), "qwen2"
     * (ChatML with Qwen2.5's default system message), "qwen3" (thinking enabled), "mistral"
     * (Mistral 7B Instruct); IllegalArgumentException listing the known names otherwise.
     */
    static ChatTemplate forFamily(String family) {
        String key = family == null ? "" : family.toLowerCase(Locale.ROOT);
        return switch (key) {
            case "llama" -> Llama3ChatTemplate.llama3();
            case "qwen2" -> ChatMlTemplate.qwen25();
            case "qwen3" -> new Qwen3ChatTemplate(true);
            case "mistral" -> new MistralChatTemplate();
            default -> throw new IllegalArgumentException("no chat template for family \"" + family
                    + "\"; known families: " + String.join(", ", FAMILIES));
        };
    }
}
