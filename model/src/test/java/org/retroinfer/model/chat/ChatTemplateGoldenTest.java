package org.retroinfer.model.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our rendering of each real chat template in shared/testdata against jinja2's, as transformers'
 * apply_chat_template does it (goldens from {@code src/test/resources/chat/render_goldens.py}).
 */
class ChatTemplateGoldenTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen3"})
    void rendersEveryGoldenConversationExactlyLikeJinja(String name) throws IOException {
        JsonNode golden = golden(name);
        Path config = ChatTestData.file(golden.path("source").asText());
        String jinja = JSON.readTree(config.toFile()).path("chat_template").asText();
        assertEquals(golden.path("chat_template_sha256").asText(), sha256(jinja),
                config + " holds another template than the goldens were rendered from; re-run render_goldens.py");
        Clock clock = Clock.fixed(LocalDate.parse(golden.path("date").asText()).atStartOfDay().toInstant(ZoneOffset.UTC),
                ZoneOffset.UTC);
        ChatTemplate template = TokenizerConfigTemplate.find(config, clock).orElseThrow();

        int compared = 0;
        for (JsonNode c : golden.path("cases")) {
            ChatTemplate variant = template;
            if (c.has("enable_thinking")) {
                assertInstanceOf(Qwen3ChatTemplate.class, template);
                variant = new Qwen3ChatTemplate(c.path("enable_thinking").asBoolean());
            }
            String rendered = variant.render(messages(c.path("messages")), c.path("add_generation_prompt").asBoolean());
            assertEquals(c.path("expected").asText(), rendered,
                    name + " case " + c.path("case").asText() + " add_generation_prompt=" + c.path("add_generation_prompt"));
            compared++;
        }
        assertTrue(compared >= 10, "expected the goldens of " + name + " to hold at least 10 cases, found " + compared);
    }

    static JsonNode golden(String name) throws IOException {
        try (InputStream in = ChatTemplateGoldenTest.class.getResourceAsStream("/chat/" + name + ".goldens.json")) {
            assertTrue(in != null, "missing resource chat/" + name + ".goldens.json; run render_goldens.py");
            return JSON.readTree(in);
        }
    }

    private static List<ChatMessage> messages(JsonNode array) {
        List<ChatMessage> messages = new ArrayList<>();
        for (JsonNode m : array) {
            messages.add(new ChatMessage(m.path("role").asText(), m.path("content").asText()));
        }
        return messages;
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
