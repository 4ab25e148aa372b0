package org.retroinfer.model.chat;

import java.util.List;

/**
 * Mistral 7B Instruct's template: {@code <s>}, then {@code [INST] question [/INST]} for each user
 * message and {@code answer</s>} for each assistant message. Like the original, it knows no system
 * role and needs user and assistant messages to alternate, starting with the user; the
 * {@code [/INST]} that closes the last question already prompts the answer, so there is no separate
 * generation prompt.
 */
public record MistralChatTemplate() implements ChatTemplate {
    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Conversation.checked(messages);
        StringBuilder out = new StringBuilder("<s>");
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage message = messages.get(i);
            if (message.isSystem()) {
                throw new IllegalArgumentException("message " + i + " is a system message, but Mistral's chat template"
                        + " has no system role; put its text at the start of the first user message");
            }
            if (message.isUser() != (i % 2 == 0)) {
                throw new IllegalArgumentException("message " + i + " is a " + message.role() + " message, but Mistral's"
                        + " chat template needs user and assistant messages to alternate, starting with the user");
            }
            if (message.isUser()) {
                out.append("[INST] ").append(message.content()).append(" [/INST]");
            } else {
                out.append(message.content()).append("</s>");
            }
        }
        return out.toString();
    }

    @Override
    public String name() {
        return "mistral";
    }
}
