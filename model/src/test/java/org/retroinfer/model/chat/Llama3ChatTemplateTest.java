package org.retroinfer.model.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Llama 3.1+ knowledge header, which no template in shared/testdata has (its Llama 3 file is the
 * 3.0 template, covered by the goldens): expected strings written out from Llama 3.1's template.
 */
class Llama3ChatTemplateTest {
    private static final String HEADER = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            + "Cutting Knowledge Date: December 2023\nToday Date: ";

    @Test
    void llama31PutsTheTrimmedSystemMessageAfterTheKnowledgeLines() {
        String rendered = Llama3ChatTemplate.llama31(Llama3ChatTemplate.LLAMA31_DATE).render(List.of(
                ChatMessage.system("\u00a0Be brief.\n"), ChatMessage.user(" Hi "), ChatMessage.assistant("Hello.")), true);
        assertEquals(HEADER + "26 Jul 2024\n\nBe brief.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", rendered);
    }

    @Test
    void llama31WritesAnEmptySystemTurnWhenTheConversationHasNone() {
        String rendered = Llama3ChatTemplate.llama31("1 Jan 2025").render(List.of(ChatMessage.user("Hi")), false);
        assertEquals(HEADER + "1 Jan 2025\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", rendered);
    }

    @Test
    void llama32DatesTheHeaderByItsClockAsStrftimeDoes() {
        Clock clock = Clock.fixed(Instant.parse("2025-03-05T23:30:00Z"), ZoneOffset.ofHours(2));
        String rendered = Llama3ChatTemplate.llama32(clock).render(List.of(ChatMessage.user("Hi")), true);
        assertEquals(HEADER + "06 Mar 2025\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", rendered);
    }

    @Test
    void llama3HonoursAddGenerationPrompt() {
        List<ChatMessage> hi = List.of(ChatMessage.user("Hi"));
        String turn = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
        assertEquals(turn, Llama3ChatTemplate.llama3().render(hi, false));
        assertEquals(turn + "<|start_header_id|>assistant<|end_header_id|>\n\n", Llama3ChatTemplate.llama3().render(hi, true));
    }
}
