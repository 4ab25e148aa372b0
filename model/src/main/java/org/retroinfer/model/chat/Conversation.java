package org.retroinfer.model.chat;

import java.util.List;

/** The checks every template makes before rendering. */
final class Conversation {
    private Conversation() {
    }

    /** The messages, refused when missing or empty: every real template indexes {@code messages[0]}. */
    static List<ChatMessage> checked(List<ChatMessage> messages) {
        if (messages == null || messages.isEmpty()) {
            throw new IllegalArgumentException("a conversation needs at least one message");
        }
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i) == null) {
                throw new IllegalArgumentException("message " + i + " of the conversation is null");
            }
        }
        return messages;
    }
}
