package org.retroinfer.model.chat;

import java.time.Clock;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The Llama 3 family's template: {@code <|begin_of_text|>}, then for each message
 * {@code <|start_header_id|>role<|end_header_id|>\n\n} + its content, trimmed, + {@code <|eot_id|>}.
 * From Llama 3.1 on the template always opens with a system turn that names the knowledge cutoff and
 * a date, the system message (if first) following those lines.
 */
public final class Llama3ChatTemplate implements ChatTemplate {
    /** The date Llama 3.1's and 3.3's templates write when the caller passes no date_string. */
    public static final String LLAMA31_DATE = "26 Jul 2024";
    /** strftime's "%d %b %Y", which Llama 3.2's template asks of strftime_now. */
    static final DateTimeFormatter STRFTIME_DATE = DateTimeFormatter.ofPattern("dd MMM yyyy", Locale.US);

    private static final String BOS = "<|begin_of_text|>";
    private static final String EOT = "<|eot_id|>";

    private final String name;
    /** Null for Llama 3.0, which has no knowledge header. */
    private final Supplier<String> date;
    /** The first Llama 3 Instruct release writes the assistant header whatever add_generation_prompt says. */
    private final boolean alwaysPromptsAssistant;

    private Llama3ChatTemplate(String name, Supplier<String> date, boolean alwaysPromptsAssistant) {
        this.name = name;
        this.date = date;
        this.alwaysPromptsAssistant = alwaysPromptsAssistant;
    }

    /** Meta Llama 3 Instruct's template. */
    public static Llama3ChatTemplate llama3() {
        return new Llama3ChatTemplate("llama3", null, false);
    }

    /** The first release of Meta Llama 3 Instruct's template, whose assistant header is unconditional. */
    static Llama3ChatTemplate llama3AlwaysPrompting() {
        return new Llama3ChatTemplate("llama3", null, true);
    }

    /** Llama 3.1 and 3.3: the knowledge header with a fixed date ({@link #LLAMA31_DATE} by default). */
    public static Llama3ChatTemplate llama31(String dateString) {
        Objects.requireNonNull(dateString, "dateString");
        return new Llama3ChatTemplate("llama3.1", () -> dateString, false);
    }

    /** Llama 3.2: the knowledge header dated today by this clock, as its template's strftime_now does. */
    public static Llama3ChatTemplate llama32(Clock clock) {
        Objects.requireNonNull(clock, "clock");
        return new Llama3ChatTemplate("llama3.2", () -> STRFTIME_DATE.format(LocalDate.now(clock)), false);
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Conversation.checked(messages);
        StringBuilder out = new StringBuilder(BOS);
        int first = 0;
        if (date != null) {
            String system = "";
            if (messages.getFirst().isSystem()) {
                system = PythonText.strip(messages.getFirst().content());
                first = 1;
            }
            out.append("<|start_header_id|>system<|end_header_id|>\n\n")
                    .append("Cutting Knowledge Date: December 2023\n")
                    .append("Today Date: ").append(date.get()).append("\n\n")
                    .append(system).append(EOT);
        }
        for (ChatMessage message : messages.subList(first, messages.size())) {
            header(out, message.role()).append(PythonText.strip(message.content())).append(EOT);
        }
        if (addGenerationPrompt || alwaysPromptsAssistant) {
            header(out, "assistant");
        }
        return out.toString();
    }

    private static StringBuilder header(StringBuilder out, String role) {
        return out.append("<|start_header_id|>").append(role).append("<|end_header_id|>\n\n");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name + (alwaysPromptsAssistant ? " (assistant header always)" : "");
    }
}
