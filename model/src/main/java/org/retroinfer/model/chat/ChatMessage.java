package org.retroinfer.model.chat;

import java.util.List;

/** One turn of a conversation: who speaks ({@code system}, {@code user} or {@code assistant}) and what. */
public record ChatMessage(String role, String content) {
    /** The roles every supported chat template knows; tool calls are not supported. */
    public static final List<String> ROLES = List.of("system", "user", "assistant");

    public ChatMessage {
        if (role == null || !ROLES.contains(role)) {
            throw new IllegalArgumentException("role must be one of " + String.join(", ", ROLES)
                    + (role == null ? ", got null" : ", got \"" + role + "\""));
        }
        if (content == null) {
            throw new IllegalArgumentException("content of a " + role + " message must not be null (use \"\" for none)");
        }
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }

    boolean isSystem() {
        return role.equals("system");
    }

    boolean isUser() {
        return role.equals("user");
    }
}
