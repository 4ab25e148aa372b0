package org.retroinfer.model.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Mistral 7B Instruct's format. shared/testdata's Mistral tokenizer_config.json carries no template,
 * so the expected strings are written out from the original Mistral 7B Instruct template.
 */
class MistralChatTemplateTest {
    private final MistralChatTemplate template = new MistralChatTemplate();

    @Test
    void userAndAssistantTurnsAlternateInInstBlocks() {
        List<ChatMessage> chat = List.of(ChatMessage.user("2+2?"), ChatMessage.assistant("4"), ChatMessage.user(" And 3+3? "));
        String expected = "<s>[INST] 2+2? [/INST]4</s>[INST]  And 3+3?  [/INST]";
        assertEquals(expected, template.render(chat, true));
        assertEquals(expected, template.render(chat, false), "[/INST] is the prompt; add_generation_prompt adds nothing");
    }

    @Test
    void systemMessagesAreRefusedWithAHint() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> template.render(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi")), true));
        assertTrue(e.getMessage().contains("message 0 is a system message") && e.getMessage().contains("first user message"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> template.render(
                List.of(ChatMessage.user("Hi"), ChatMessage.system("Be brief.")), true));
    }

    @Test
    void rolesThatDoNotAlternateFromTheUserAreRefused() {
        for (List<ChatMessage> chat : List.of(
                List.of(ChatMessage.assistant("Hello")),
                List.of(ChatMessage.user("a"), ChatMessage.user("b")),
                List.of(ChatMessage.user("a"), ChatMessage.assistant("b"), ChatMessage.assistant("c")))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> template.render(chat, true));
            assertTrue(e.getMessage().contains("alternate"), e.getMessage());
        }
    }
}
