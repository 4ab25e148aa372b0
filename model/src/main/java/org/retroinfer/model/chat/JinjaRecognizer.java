package org.retroinfer.model.chat;

import java.time.Clock;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tells which of our templates a model's Jinja chat template is, from markers that only that template
 * family's source holds. A template that resembles one of ours but would render differently (Llama 2's
 * {@code <<SYS>>}, Mistral's later control-token formats, other {@code <think>} templates) is not
 * recognised: an absent template is an error the user sees, a wrong one silently degrades the model.
 */
final class JinjaRecognizer {
    /** A string literal {@code '<|im_start|>system\n...<|im_end|>\n'}: the default system message of Qwen2/2.5. */
    private static final Pattern CHATML_DEFAULT_SYSTEM = Pattern.compile(
            "(['\"])<\\|im_start\\|>system(?:\\\\n|\\n)((?:(?!\\1)[^\\\\]|\\\\.)+?)<\\|im_end\\|>(?:\\\\n|\\n)\\1");
    /** Llama 3.1's {@code set date_string = "26 Jul 2024"}. */
    private static final Pattern DATE_STRING = Pattern.compile("set\\s+date_string\\s*=\\s*(['\"])([^'\"]+)\\1");

    private JinjaRecognizer() {
    }

    static Optional<ChatTemplate> recognize(String jinja, Clock clock) {
        if (jinja == null || jinja.isBlank()) {
            return Optional.empty();
        }
        if (jinja.contains("<|start_header_id|>") && jinja.contains("<|eot_id|>")) {
            return llama3(jinja, clock);
        }
        if (jinja.contains("<|im_start|>") && jinja.contains("<|im_end|>")) {
            return chatMl(jinja);
        }
        if (jinja.contains("[INST] ") && jinja.contains(" [/INST]") && !jinja.contains("<<SYS>>")) {
            return Optional.of(new MistralChatTemplate());
        }
        return Optional.empty();
    }

    private static Optional<ChatTemplate> llama3(String jinja, Clock clock) {
        if (!jinja.contains("Cutting Knowledge Date")) {
            return Optional.of(jinja.contains("add_generation_prompt")
                    ? Llama3ChatTemplate.llama3() : Llama3ChatTemplate.llama3AlwaysPrompting());
        }
        if (jinja.contains("strftime_now")) {
            return Optional.of(Llama3ChatTemplate.llama32(clock));
        }
        Matcher date = DATE_STRING.matcher(jinja);
        return date.find() ? Optional.of(Llama3ChatTemplate.llama31(date.group(2))) : Optional.empty();
    }

    private static Optional<ChatTemplate> chatMl(String jinja) {
        if (jinja.contains("<think>")) {
            // Qwen3's hybrid-thinking template; QwQ and the thinking-only releases prompt differently.
            boolean qwen3 = jinja.contains("last_query_index") && jinja.contains("enable_thinking");
            return qwen3 ? Optional.of(new Qwen3ChatTemplate(true)) : Optional.empty();
        }
        Matcher system = CHATML_DEFAULT_SYSTEM.matcher(jinja);
        return Optional.of(new ChatMlTemplate(system.find() ? unescape(system.group(2)) : null));
    }

    /** The value of a Jinja (Python) string literal's body. */
    static String unescape(String literal) {
        StringBuilder out = new StringBuilder(literal.length());
        for (int i = 0; i < literal.length(); i++) {
            char c = literal.charAt(i);
            if (c != '\\' || i + 1 == literal.length()) {
                out.append(c);
                continue;
            }
            char next = literal.charAt(++i);
            switch (next) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case '\\', '\'', '"' -> out.append(next);
                case 'u' -> {
                    if (i + 4 < literal.length() && literal.substring(i + 1, i + 5).matches("[0-9a-fA-F]{4}")) {
                        out.append((char) Integer.parseInt(literal.substring(i + 1, i + 5), 16));
                        i += 4;
                    } else {
                        out.append('\\').append(next);
                    }
                }
                default -> out.append('\\').append(next);
            }
        }
        return out.toString();
    }
}
