package org.retroinfer.model.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChatMessageTest {
    @Test
    void rolesOtherThanSystemUserAssistantAreRejectedNamingTheRole() {
        for (String role : Arrays.asList("tool", "User", "ipython", "", null)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ChatMessage(role, "x"));
            assertTrue(e.getMessage().contains("system, user, assistant"), e.getMessage());
            assertTrue(e.getMessage().contains(role == null ? "null" : "\"" + role + "\""), e.getMessage());
        }
    }

    @Test
    void nullContentIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChatMessage.user(null));
        assertTrue(e.getMessage().contains("user message"), e.getMessage());
    }

    @Test
    void factoriesSetTheirRole() {
        assertEquals(new ChatMessage("system", "a"), ChatMessage.system("a"));
        assertEquals(new ChatMessage("user", "b"), ChatMessage.user("b"));
        assertEquals(new ChatMessage("assistant", "c"), ChatMessage.assistant("c"));
    }

    @Test
    void everyTemplateRefusesAnEmptyOrNullConversationAndNullMessages() {
        List<ChatMessage> withNull = new ArrayList<>();
        withNull.add(ChatMessage.user("hi"));
        withNull.add(null);
        for (String family : ChatTemplate.FAMILIES) {
            ChatTemplate template = ChatTemplate.forFamily(family);
            assertThrows(IllegalArgumentException.class, () -> template.render(List.of(), true), family);
            assertThrows(IllegalArgumentException.class, () -> template.render(null, true), family);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> template.render(withNull, true));
            assertTrue(e.getMessage().contains("message 1"), e.getMessage());
        }
    }
}
