package org.retroinfer.model.chat;

import java.util.List;

/**
 * Qwen3's template: ChatML whose assistant turns carry their reasoning in {@code <think>} blocks.
 * Reasoning is kept only for assistant turns after the last real user query (earlier turns lose it,
 * as in training), and the final assistant turn always gets a block, empty if it had none. A user
 * message wrapped in {@code <tool_response>} tags does not count as a query.
 *
 * @param thinking false renders the generation prompt with an empty think block, as the template does
 *                 for {@code enable_thinking=False}, which asks the model to answer without reasoning
 */
public record Qwen3ChatTemplate(boolean thinking) implements ChatTemplate {
    private static final String THINK_OPEN = "<think>";
    private static final String THINK_CLOSE = "</think>";

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Conversation.checked(messages);
        int lastQuery = lastQueryIndex(messages);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage message = messages.get(i);
            if (!message.role().equals("assistant")) {
                ChatMlTemplate.turn(out, message.role(), message.content());
                continue;
            }
            String content = message.content();
            String reasoning = "";
            int close = content.indexOf(THINK_CLOSE);
            if (close >= 0) {
                // content.split('</think>')[-1].lstrip('\n') and [0].rstrip('\n').split('<think>')[-1].lstrip('\n')
                String before = PythonText.stripTrailingNewlines(content.substring(0, close));
                reasoning = PythonText.stripLeadingNewlines(before.substring(lastIndexAfter(before, THINK_OPEN)));
                content = PythonText.stripLeadingNewlines(content.substring(lastIndexAfter(content, THINK_CLOSE)));
            }
            boolean last = i == messages.size() - 1;
            out.append("<|im_start|>assistant\n");
            if (i > lastQuery && (last || !reasoning.isEmpty())) {
                out.append("<think>\n").append(PythonText.stripLeadingNewlines(PythonText.stripTrailingNewlines(reasoning)))
                        .append("\n</think>\n\n").append(PythonText.stripLeadingNewlines(content));
            } else {
                out.append(content);
            }
            out.append("<|im_end|>\n");
        }
        if (addGenerationPrompt) {
            out.append("<|im_start|>assistant\n");
            if (!thinking) {
                out.append("<think>\n\n</think>\n\n");
            }
        }
        return out.toString();
    }

    /** The index of the last user message that is not a tool response, or the last index if none. */
    private static int lastQueryIndex(List<ChatMessage> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            ChatMessage m = messages.get(i);
            boolean toolResponse = m.content().startsWith("<tool_response>") && m.content().endsWith("</tool_response>");
            if (m.isUser() && !toolResponse) {
                return i;
            }
        }
        return messages.size() - 1;
    }

    /** Where Python's {@code s.split(marker)[-1]} starts. */
    private static int lastIndexAfter(String s, String marker) {
        int at = s.lastIndexOf(marker);
        return at < 0 ? 0 : at + marker.length();
    }

    @Override
    public String name() {
        return "qwen3";
    }
}
