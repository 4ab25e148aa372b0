package org.retroinfer.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.UUID;

/**
 * The JSON objects OpenAI answers a completion with, whole or as stream chunks: text completions
 * ({@code text_completion}, text in {@code choices[0].text}) and chat completions
 * ({@code chat.completion}, the reply in {@code choices[0].message}; chunks
 * {@code chat.completion.chunk} with a {@code delta}). One instance per response: it holds the
 * response's id and creation time, which every chunk repeats.
 */
final class ResponseFormat {
    private final ObjectMapper json;
    private final boolean chat;
    private final String model;
    private final String id;
    private final long created = System.currentTimeMillis() / 1000;

    ResponseFormat(ObjectMapper json, boolean chat, String model) {
        this.json = json;
        this.chat = chat;
        this.model = model;
        this.id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
    }

    /** The whole response of a non-streamed request. */
    ObjectNode complete(String text, SequenceListener.FinishReason reason, int promptTokens, int completionTokens) {
        ObjectNode root = header(chat ? "chat.completion" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            ObjectNode message = choice.putObject("message");
            message.put("role", "assistant");
            message.put("content", text);
        } else {
            choice.put("text", text);
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", reason.openAiName());
        usage(root, promptTokens, completionTokens);
        return root;
    }

    /** A chat stream's first chunk, which names the speaker; null for text completions. */
    ObjectNode start() {
        return chat ? chunk(null, null, true) : null;
    }

    /** A chunk of streamed text. */
    ObjectNode text(String piece) {
        return chunk(piece, null, false);
    }

    /** The chunk that ends a stream's choice. */
    ObjectNode finish(SequenceListener.FinishReason reason) {
        return chunk(null, reason, false);
    }

    /** The usage chunk ({@code stream_options.include_usage}): no choices, the token counts. */
    ObjectNode usageChunk(int promptTokens, int completionTokens) {
        ObjectNode root = header(chat ? "chat.completion.chunk" : "text_completion");
        root.putArray("choices");
        usage(root, promptTokens, completionTokens);
        return root;
    }

    private ObjectNode chunk(String piece, SequenceListener.FinishReason reason, boolean role) {
        ObjectNode root = header(chat ? "chat.completion.chunk" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            ObjectNode delta = choice.putObject("delta");
            if (role) {
                delta.put("role", "assistant");
                delta.put("content", "");
            }
            if (piece != null) {
                delta.put("content", piece);
            }
        } else {
            choice.put("text", piece == null ? "" : piece);
        }
        choice.putNull("logprobs");
        if (reason == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", reason.openAiName());
        }
        return root;
    }

    private ObjectNode header(String object) {
        ObjectNode root = json.createObjectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", model);
        return root;
    }

    private static void usage(ObjectNode root, int promptTokens, int completionTokens) {
        ObjectNode usage = root.putObject("usage");
        usage.put("prompt_tokens", promptTokens);
        usage.put("completion_tokens", completionTokens);
        usage.put("total_tokens", promptTokens + completionTokens);
    }
}
