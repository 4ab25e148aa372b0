package org.retroinfer.model.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Qwen2/2.5's ChatML, which no template in shared/testdata has: expected strings written out from
 * Qwen2.5 Instruct's template (its default system message unless the conversation opens with one).
 */
class ChatMlTemplateTest {
    @Test
    void qwen25WritesItsDefaultSystemMessageWhenTheConversationHasNone() {
        String rendered = ChatMlTemplate.qwen25().render(List.of(ChatMessage.user("Hi"), ChatMessage.assistant("Hello!")), true);
        assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>assistant\n", rendered);
    }

    @Test
    void ownSystemMessageReplacesTheDefaultAndContentIsNotTrimmed() {
        String rendered = ChatMlTemplate.qwen25().render(List.of(ChatMessage.system(" Terse. "), ChatMessage.user("Hi\n")), false);
        assertEquals("<|im_start|>system\n Terse. <|im_end|>\n<|im_start|>user\nHi\n<|im_end|>\n", rendered);
    }

    @Test
    void plainChatMlHasNoDefaultSystemMessage() {
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                new ChatMlTemplate(null).render(List.of(ChatMessage.user("Hi")), true));
    }
}
