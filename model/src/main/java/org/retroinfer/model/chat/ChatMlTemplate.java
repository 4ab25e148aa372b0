package org.retroinfer.model.chat;

import java.util.List;

/**
 * ChatML, as Qwen2 and Qwen2.5 use it: {@code <|im_start|>role\ncontent<|im_end|>\n} per message and
 * {@code <|im_start|>assistant\n} as the generation prompt. Where the template has a default system
 * message it is written when the conversation does not open with its own.
 *
 * @param defaultSystemMessage the system message written when the first message is not one; null for none
 */
public record ChatMlTemplate(String defaultSystemMessage) implements ChatTemplate {
    public static final String QWEN2_SYSTEM = "You are a helpful assistant.";
    public static final String QWEN25_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

    /** Qwen2.5 Instruct's template. */
    public static ChatMlTemplate qwen25() {
        return new ChatMlTemplate(QWEN25_SYSTEM);
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Conversation.checked(messages);
        StringBuilder out = new StringBuilder();
        if (defaultSystemMessage != null && !messages.getFirst().isSystem()) {
            turn(out, "system", defaultSystemMessage);
        }
        for (ChatMessage message : messages) {
            turn(out, message.role(), message.content());
        }
        if (addGenerationPrompt) {
            out.append("<|im_start|>assistant\n");
        }
        return out.toString();
    }

    static void turn(StringBuilder out, String role, String content) {
        out.append("<|im_start|>").append(role).append('\n').append(content).append("<|im_end|>\n");
    }

    @Override
    public String name() {
        return "chatml";
    }
}
