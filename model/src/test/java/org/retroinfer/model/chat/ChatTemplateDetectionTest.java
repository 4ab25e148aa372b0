package org.retroinfer.model.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.model.weights.ModelFileException;

/** Which template a tokenizer_config.json or a Jinja source is, and the errors of a bad file. */
class ChatTemplateDetectionTest {
    private static final List<ChatMessage> HELLO = List.of(ChatMessage.user("hello"));

    @TempDir
    Path dir;

    @Test
    void realLlama3ConfigIsTheFirstLlama3TemplateWithItsUnconditionalAssistantHeader() {
        ChatTemplate template = ChatTemplate.find(ChatTestData.tokenizerConfig("llama3")).orElseThrow();
        assertEquals("llama3", template.name());
        assertTrue(template.render(HELLO, false).endsWith("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"));
    }

    @Test
    void realQwen3ConfigIsQwen3WithThinking() {
        ChatTemplate template = ChatTemplate.find(ChatTestData.tokenizerConfig("qwen3")).orElseThrow();
        assertEquals(new Qwen3ChatTemplate(true), template);
    }

    @Test
    void realJinjaSourcesAreRecognisedAsFromTheirConfigs() throws IOException {
        for (String name : List.of("llama3", "qwen3")) {
            Path config = ChatTestData.tokenizerConfig(name);
            String jinja = new ObjectMapper().readTree(config.toFile()).path("chat_template").asText();
            ChatTemplate fromJinja = ChatTemplate.fromJinja(jinja).orElseThrow();
            ChatTemplate fromFile = ChatTemplate.find(config).orElseThrow();
            assertEquals(fromFile.toString(), fromJinja.toString(), name);
            assertEquals(fromFile.render(HELLO, true), fromJinja.render(HELLO, true), name);
        }
    }

    @Test
    void realMistralConfigHasNoChatTemplate() {
        assertEquals(Optional.empty(), ChatTemplate.find(ChatTestData.tokenizerConfig("mistral")));
    }

    @Test
    void unrecognisedTemplatesGiveEmpty() {
        for (String jinja : List.of("", "  ",
                "{% for m in messages %}<start_of_turn>{{ m['role'] }}\n{{ m['content'] }}<end_of_turn>\n{% endfor %}",
                "{{ bos_token }}[INST] <<SYS>>\n{{ system }}\n<</SYS>>\n\n{{ m['content'] }} [/INST]",
                "{{ '<|im_start|>assistant\\n<think>\\n' }}{{ '<|im_end|>' }}",
                "{{ '<|start_header_id|>system<|end_header_id|>' }}Cutting Knowledge Date: December 2023{{ '<|eot_id|>' }}")) {
            assertEquals(Optional.empty(), ChatTemplate.fromJinja(jinja), jinja);
        }
    }

    @Test
    void chatMlDefaultSystemMessageIsReadFromItsStringLiteral() {
        String qwen2 = "{% if loop.first and messages[0]['role'] != 'system' %}"
                + "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
                + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}";
        assertEquals(Optional.of(new ChatMlTemplate(ChatMlTemplate.QWEN2_SYSTEM)), ChatTemplate.fromJinja(qwen2));

        String escaped = "{{- \"<|im_start|>system\\nIt\\'s \\\"quoted\\\"\\tand\\\\slashed<|im_end|>\\n\" }}<|im_end|>";
        assertEquals(Optional.of(new ChatMlTemplate("It's \"quoted\"\tand\\slashed")), ChatTemplate.fromJinja(escaped));

        String plain = "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}";
        assertEquals(Optional.of(new ChatMlTemplate(null)), ChatTemplate.fromJinja(plain));
    }

    @Test
    void llama31DateComesFromTheTemplateAndLlama32DateFromTheClock() {
        String llama31 = "{%- set date_string = \"26 Jul 2024\" %}{{ '<|start_header_id|>system<|end_header_id|>' }}"
                + "{{ 'Cutting Knowledge Date: December 2023\\n' }}{{ '<|eot_id|>' }}";
        ChatTemplate t31 = ChatTemplate.fromJinja(llama31).orElseThrow();
        assertEquals("llama3.1", t31.name());
        assertTrue(t31.render(HELLO, true).contains("Today Date: 26 Jul 2024\n\n"));

        String llama32 = "{%- set date_string = strftime_now(\"%d %b %Y\") %}" + llama31.substring(llama31.indexOf("%}") + 2);
        Clock clock = Clock.fixed(Instant.parse("2025-09-07T12:00:00Z"), ZoneOffset.UTC);
        ChatTemplate t32 = JinjaRecognizer.recognize(llama32, clock).orElseThrow();
        assertEquals("llama3.2", t32.name());
        assertTrue(t32.render(HELLO, true).contains("Today Date: 07 Sep 2025\n\n"), t32.render(HELLO, true));
    }

    @Test
    void mistralInstTemplateIsRecognised() {
        String jinja = "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
                + "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% endif %}{% endfor %}";
        assertEquals(Optional.of(new MistralChatTemplate()), ChatTemplate.fromJinja(jinja));
    }

    @Test
    void configWithoutChatTemplateGivesEmpty() throws IOException {
        assertEquals(Optional.empty(), ChatTemplate.find(write("{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\"}")));
        assertEquals(Optional.empty(), ChatTemplate.find(write("{\"chat_template\": null}")));
    }

    @Test
    void namedTemplateListUsesTheDefaultEntry() throws IOException {
        Path config = write("{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"{{ '[INST] ' }} [/INST]\"},"
                + " {\"name\": \"default\", \"template\": \"<|im_start|><think><|im_end|>\"}]}");
        assertEquals(Optional.empty(), ChatTemplate.find(config));
        Path withChatMl = write("{\"chat_template\": [{\"name\": \"default\", \"template\": \"<|im_start|><|im_end|>\"}]}");
        assertEquals(Optional.of(new ChatMlTemplate(null)), ChatTemplate.find(withChatMl));
        Path noDefault = write("{\"chat_template\": [{\"name\": \"rag\", \"template\": \"<|im_start|><|im_end|>\"}]}");
        assertEquals(Optional.empty(), ChatTemplate.find(noDefault));
    }

    @Test
    void chatTemplateJinjaBesideTheConfigTakesPrecedence() throws IOException {
        Path config = write("{\"chat_template\": \"{{ '[INST] ' + m + ' [/INST]' }}\"}");
        Files.writeString(config.resolveSibling("chat_template.jinja"), "<|im_start|>{{ m }}<|im_end|>");
        assertEquals(Optional.of(new ChatMlTemplate(null)), ChatTemplate.find(config));
    }

    @Test
    void malformedConfigIsRejectedWithItsPath() throws IOException {
        for (String text : List.of("{\"chat_template\": \"x\"", "[1, 2]", "{\"chat_template\": 42}",
                "{\"chat_template\": [{\"name\": \"default\"}]}")) {
            Path config = write(text);
            ModelFileException e = assertThrows(ModelFileException.class, () -> ChatTemplate.find(config), text);
            assertEquals(config, e.file());
            assertTrue(e.getMessage().startsWith(config.toString()), e.getMessage());
        }
    }

    @Test
    void forFamilyKnowsTheSupportedFamiliesAndListsThemOtherwise() {
        assertEquals("llama3", ChatTemplate.forFamily("llama").name());
        assertEquals(ChatMlTemplate.qwen25(), ChatTemplate.forFamily("qwen2"));
        assertEquals(new Qwen3ChatTemplate(true), ChatTemplate.forFamily("QWEN3"));
        assertInstanceOf(MistralChatTemplate.class, ChatTemplate.forFamily("mistral"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.forFamily("gemma"));
        assertTrue(e.getMessage().contains("\"gemma\"") && e.getMessage().contains("llama, qwen2, qwen3, mistral"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.forFamily(null));
    }

    private Path write(String json) throws IOException {
        Path sub = Files.createTempDirectory(dir, "model");
        return Files.writeString(sub.resolve("tokenizer_config.json"), json);
    }
}
