package org.retroinfer.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.retroinfer.model.Model;
import org.retroinfer.model.chat.ChatMessage;
import org.retroinfer.model.chat.ChatTemplate;
import org.retroinfer.model.generation.SamplingParams;

/**
 * Reads the body of {@code /v1/completions} and {@code /v1/chat/completions} into what the
 * scheduler runs, checking every field as OpenAI does: a wrong type or a value out of range is a
 * 400 naming the parameter. Unknown fields are refused, as OpenAI refuses them; OpenAI fields
 * this server cannot honour (several choices, log-probabilities, tools, penalties) are accepted
 * only at the value that means "off", so that no request is silently answered differently from
 * what it asked.
 */
final class RequestParser {
    /** OpenAI's limit on stop strings per request. */
    static final int MAX_STOPS = 4;
    /** {@code max_tokens} of a completion that gives none: OpenAI's default for /v1/completions. */
    static final int DEFAULT_COMPLETION_TOKENS = 16;

    private static final Set<String> COMMON = Set.of("model", "max_tokens", "temperature", "top_p", "top_k", "min_p",
            "repetition_penalty", "stop", "seed", "stream", "stream_options", "retrieval_budget", "estimation_budget",
            "n", "user", "presence_penalty", "frequency_penalty", "logit_bias");
    private static final Set<String> COMPLETION_ONLY = Set.of("prompt", "logprobs", "echo", "best_of", "suffix");
    private static final Set<String> CHAT_ONLY = Set.of("messages", "max_completion_tokens", "logprobs", "top_logprobs",
            "tools", "tool_choice", "parallel_tool_calls", "response_format");

    private final Model model;
    private final ServeConfig config;
    private final ChatTemplate chatTemplate;
    private final int maxContext;

    RequestParser(Model model, ServeConfig config, ChatTemplate chatTemplate) {
        this.model = model;
        this.config = config;
        this.chatTemplate = chatTemplate;
        this.maxContext = Math.min(config.maxContext(), model.config().maxPositions());
    }

    int maxContext() {
        return maxContext;
    }

    ParsedRequest completion(JsonNode body) {
        checkFields(body, COMPLETION_ONLY);
        requireOff(body, "logprobs", "log-probabilities are not supported");
        requireOff(body, "echo", "echo is not supported");
        requireOff(body, "suffix", "suffix (insertion) is not supported");
        requireOne(body, "best_of");
        int[] prompt = completionPrompt(body.get("prompt"));
        return common(body, prompt, DEFAULT_COMPLETION_TOKENS, "max_tokens");
    }

    ParsedRequest chat(JsonNode body) {
        checkFields(body, CHAT_ONLY);
        requireOff(body, "logprobs", "log-probabilities are not supported");
        requireOff(body, "top_logprobs", "log-probabilities are not supported");
        JsonNode tools = body.get("tools");
        if (tools != null && !tools.isNull() && !(tools.isArray() && tools.isEmpty())) {
            throw ApiException.invalid("tools", "tools (function calling) are not supported by this server");
        }
        JsonNode toolChoice = body.get("tool_choice");
        if (toolChoice != null && !toolChoice.isNull() && !(toolChoice.isTextual() && toolChoice.asText().equals("none"))) {
            throw ApiException.invalid("tool_choice", "tool_choice is not supported by this server (only \"none\")");
        }
        bool(body, "parallel_tool_calls");
        JsonNode format = body.get("response_format");
        if (format != null && !format.isNull() && !(format.isObject() && "text".equals(format.path("type").asText()))) {
            throw ApiException.invalid("response_format", "only response_format {\"type\": \"text\"} is supported");
        }
        if (chatTemplate == null) {
            throw ApiException.invalid("messages", "model '" + config.modelId() + "' has no chat template; use "
                    + "/v1/completions, or start the server with --chat-template NAME ("
                    + String.join(", ", ChatTemplate.FAMILIES) + ")");
        }
        List<ChatMessage> messages = messages(body.get("messages"));
        String text;
        try {
            text = chatTemplate.render(messages, true);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("messages", "the model's chat template refuses these messages: " + e.getMessage());
        }
        int[] prompt = model.tokenizer().encode(text, false);
        String maxName = body.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        if (body.has("max_completion_tokens") && body.has("max_tokens") && !body.get("max_tokens").isNull()) {
            throw ApiException.invalid("max_tokens", "give max_tokens or max_completion_tokens, not both");
        }
        return common(body, prompt, -1, maxName);
    }

    private ParsedRequest common(JsonNode body, int[] prompt, int defaultMaxTokens, String maxTokensName) {
        String requested = body.get("model") == null ? null : string(body, "model");
        if (requested == null) {
            throw ApiException.invalid("model", "you must provide a model parameter ('" + config.modelId() + "')");
        }
        if (!requested.equals(config.modelId())) {
            throw ApiException.unknownModel(requested, config.modelId());
        }
        requireOne(body, "n");
        for (String penalty : new String[] {"presence_penalty", "frequency_penalty"}) {
            Double p = number(body, penalty, -2, true, 2, true);
            if (p != null && p != 0) {
                throw ApiException.invalid(penalty, penalty + " is not supported (only 0); use repetition_penalty");
            }
        }
        JsonNode bias = body.get("logit_bias");
        if (bias != null && !bias.isNull() && !(bias.isObject() && bias.isEmpty())) {
            throw ApiException.invalid("logit_bias", "logit_bias is not supported");
        }
        if (body.has("user") && !body.get("user").isNull()) {
            string(body, "user");
        }
        if (prompt.length == 0) {
            throw ApiException.invalid("prompt", "the prompt is empty after tokenisation");
        }
        if (prompt.length >= maxContext) {
            throw ApiException.invalid(body.has("messages") ? "messages" : "prompt", "context_length_exceeded",
                    "This model's maximum context length is " + maxContext + " tokens, and the prompt alone has "
                            + prompt.length + " tokens; shorten it");
        }
        Integer maxTokens = integer(body, maxTokensName, 1, Integer.MAX_VALUE);
        int max = maxTokens != null ? maxTokens
                : defaultMaxTokens > 0 ? Math.min(defaultMaxTokens, maxContext - prompt.length) : maxContext - prompt.length;
        if ((long) prompt.length + max > maxContext) {
            throw ApiException.invalid(maxTokensName, "context_length_exceeded", "This model's maximum context length is "
                    + maxContext + " tokens. However, you requested " + (prompt.length + (long) max) + " tokens ("
                    + prompt.length + " in the prompt, " + max + " in the completion). Please reduce the prompt or "
                    + maxTokensName + ".");
        }
        SamplingParams sampling = sampling(body);
        List<String> stops = stops(body.get("stop"));
        Double retrieval = number(body, "retrieval_budget", 0, false, 1, true);
        Double estimation = number(body, "estimation_budget", 0, true, 1, true);
        if ((retrieval != null || estimation != null) && config.retro() == null) {
            throw ApiException.invalid(retrieval != null ? "retrieval_budget" : "estimation_budget",
                    "retrieval_budget and estimation_budget apply only to a server started with --attention retro;"
                            + " this one runs full attention");
        }
        boolean stream = Boolean.TRUE.equals(bool(body, "stream"));
        boolean includeUsage = false;
        JsonNode options = body.get("stream_options");
        if (options != null && !options.isNull()) {
            if (!stream) {
                throw ApiException.invalid("stream_options", "stream_options is only allowed when stream is true");
            }
            if (!options.isObject()) {
                throw ApiException.invalid("stream_options", "stream_options must be an object");
            }
            for (Map.Entry<String, JsonNode> e : options.properties()) {
                if (!e.getKey().equals("include_usage")) {
                    throw ApiException.invalid("stream_options." + e.getKey(), "unknown stream option '" + e.getKey() + "'");
                }
            }
            includeUsage = Boolean.TRUE.equals(bool(options, "include_usage"));
        }
        Set<Integer> stopTokens = new HashSet<>(model.generationDefaults().eosTokenIds());
        return new ParsedRequest(new SequenceRequest(prompt, max, sampling, stopTokens, stops, retrieval, estimation),
                stream, includeUsage);
    }

    /**
     * Sampling as OpenAI documents it (temperature in [0, 2], top_p in (0, 1]) plus the common
     * extensions top_k, min_p and repetition_penalty; where a field is absent, the model's
     * generation_config.json recommendation, else OpenAI's default (temperature 1, top_p 1).
     */
    private SamplingParams sampling(JsonNode body) {
        var defaults = model.generationDefaults();
        Double temperature = number(body, "temperature", 0, true, 2, true);
        Double topP = number(body, "top_p", 0, false, 1, true);
        Integer topK = integer(body, "top_k", -1, Integer.MAX_VALUE);
        Double minP = number(body, "min_p", 0, true, 1, false);
        Double penalty = number(body, "repetition_penalty", 0, false, 10, true);
        Long seed = longValue(body, "seed");
        return new SamplingParams(
                temperature != null ? temperature : defaults.temperature().orElse(1),
                topP != null ? topP : defaults.topP().orElse(1),
                topK != null ? Math.max(topK, 0) : defaults.topK().orElse(0),
                minP != null ? minP : 0,
                penalty != null ? penalty : 1,
                seed != null ? seed : System.nanoTime());
    }

    private int[] completionPrompt(JsonNode prompt) {
        if (prompt == null || prompt.isNull()) {
            throw ApiException.invalid("prompt", "you must provide a prompt");
        }
        if (prompt.isTextual()) {
            return model.tokenizer().encode(prompt.asText(), true);
        }
        if (prompt.isArray() && prompt.size() == 1 && prompt.get(0).isTextual()) {
            return model.tokenizer().encode(prompt.get(0).asText(), true);
        }
        if (prompt.isArray() && !prompt.isEmpty() && prompt.get(0).isNumber()) {
            int[] tokens = new int[prompt.size()];
            int vocab = model.config().vocabSize();
            for (int i = 0; i < tokens.length; i++) {
                JsonNode t = prompt.get(i);
                if (!t.canConvertToInt() || !t.isIntegralNumber() || t.asInt() < 0 || t.asInt() >= vocab) {
                    throw ApiException.invalid("prompt", "prompt[" + i + "] must be a token id in [0, " + vocab
                            + "), got " + t);
                }
                tokens[i] = t.asInt();
            }
            return tokens;
        }
        if (prompt.isArray() && prompt.size() > 1) {
            throw ApiException.invalid("prompt", "this server takes one prompt per request (a string, a list of one"
                    + " string, or a list of token ids), got a list of " + prompt.size());
        }
        throw ApiException.invalid("prompt", "prompt must be a string or a list of token ids, got " + kind(prompt));
    }

    private static List<ChatMessage> messages(JsonNode messages) {
        if (messages == null || messages.isNull()) {
            throw ApiException.invalid("messages", "you must provide messages");
        }
        if (!messages.isArray() || messages.isEmpty()) {
            throw ApiException.invalid("messages", "messages must be a non-empty list of {role, content} objects");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String at = "messages[" + i + "]";
            if (!m.isObject()) {
                throw ApiException.invalid(at, at + " must be an object with role and content, got " + kind(m));
            }
            for (Map.Entry<String, JsonNode> e : m.properties()) {
                if (!Set.of("role", "content", "name").contains(e.getKey())) {
                    throw ApiException.invalid(at + "." + e.getKey(), "unsupported field '" + e.getKey() + "' in " + at
                            + "; messages take role, content and name");
                }
            }
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual() || !ChatMessage.ROLES.contains(role.asText())) {
                throw ApiException.invalid(at + ".role", at + ".role must be one of " + String.join(", ", ChatMessage.ROLES)
                        + ", got " + (role == null ? "nothing" : role.toString()));
            }
            out.add(new ChatMessage(role.asText(), content(m.get("content"), at + ".content")));
        }
        return out;
    }

    /** A message's text: a string, or a list of {@code {"type": "text", "text": ...}} parts joined. */
    private static String content(JsonNode content, String at) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (content.isArray()) {
            StringBuilder b = new StringBuilder();
            for (JsonNode part : content) {
                if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiException.invalid(at, at + " parts must be {\"type\": \"text\", \"text\": ...}; this server"
                            + " takes text only");
                }
                b.append(part.get("text").asText());
            }
            return b.toString();
        }
        throw ApiException.invalid(at, at + " must be a string or a list of text parts, got " + kind(content));
    }

    private static List<String> stops(JsonNode stop) {
        if (stop == null || stop.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (stop.isTextual()) {
            out.add(stop.asText());
        } else if (stop.isArray()) {
            for (JsonNode s : stop) {
                if (!s.isTextual()) {
                    throw ApiException.invalid("stop", "stop must be a string or a list of strings, got " + stop);
                }
                out.add(s.asText());
            }
        } else {
            throw ApiException.invalid("stop", "stop must be a string or a list of strings, got " + kind(stop));
        }
        if (out.size() > MAX_STOPS) {
            throw ApiException.invalid("stop", "at most " + MAX_STOPS + " stop strings, got " + out.size());
        }
        if (out.stream().anyMatch(String::isEmpty)) {
            throw ApiException.invalid("stop", "stop strings must not be empty");
        }
        return out;
    }

    private void checkFields(JsonNode body, Set<String> endpointFields) {
        for (Map.Entry<String, JsonNode> e : body.properties()) {
            if (!COMMON.contains(e.getKey()) && !endpointFields.contains(e.getKey())) {
                throw ApiException.invalid(e.getKey(), "Unrecognized request argument supplied: " + e.getKey());
            }
        }
    }

    /** A field that may only be absent, null, false, 0 or empty. */
    private static void requireOff(JsonNode body, String name, String why) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull() || (v.isBoolean() && !v.asBoolean()) || (v.isNumber() && v.asDouble() == 0)
                || (v.isTextual() && v.asText().isEmpty())) {
            return;
        }
        throw ApiException.invalid(name, why + " by this server");
    }

    /** A count of choices that may only be 1. */
    private static void requireOne(JsonNode body, String name) {
        Integer n = integer(body, name, 1, Integer.MAX_VALUE);
        if (n != null && n != 1) {
            throw ApiException.invalid(name, name + " must be 1: this server returns one choice per request");
        }
    }

    private static String string(JsonNode body, String name) {
        JsonNode v = body.get(name);
        if (!v.isTextual()) {
            throw ApiException.invalid(name, name + " must be a string, got " + kind(v));
        }
        return v.asText();
    }

    private static Boolean bool(JsonNode body, String name) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isBoolean()) {
            throw ApiException.invalid(name, name + " must be a boolean, got " + kind(v));
        }
        return v.asBoolean();
    }

    private static Double number(JsonNode body, String name, double min, boolean minInclusive, double max,
                                 boolean maxInclusive) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber()) {
            throw ApiException.invalid(name, name + " must be a number, got " + kind(v));
        }
        double d = v.asDouble();
        boolean above = minInclusive ? d >= min : d > min;
        boolean below = maxInclusive ? d <= max : d < max;
        if (!(above && below)) {
            throw ApiException.invalid(name, name + " must be in " + (minInclusive ? "[" : "(") + plain(min) + ", "
                    + plain(max) + (maxInclusive ? "]" : ")") + ", got " + v);
        }
        return d;
    }

    private static Integer integer(JsonNode body, String name, int min, int max) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() && !(v.isNumber() && v.asDouble() == Math.rint(v.asDouble()))) {
            throw ApiException.invalid(name, name + " must be an integer, got " + kind(v));
        }
        double d = v.asDouble();
        if (d < min || d > max) {
            throw ApiException.invalid(name, name + " must be " + (max == Integer.MAX_VALUE ? "at least " + min
                    : "in [" + min + ", " + max + "]") + ", got " + v);
        }
        return (int) d;
    }

    private static Long longValue(JsonNode body, String name) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiException.invalid(name, name + " must be a 64-bit integer, got " + kind(v));
        }
        return v.asLong();
    }

    private static String plain(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    /** What a JSON value is, for messages: {@code a string ("x")}, {@code an object}, ... */
    private static String kind(JsonNode v) {
        String shown = v.toString().length() > 40 ? v.toString().substring(0, 40) + "..." : v.toString();
        return switch (v.getNodeType()) {
            case STRING -> "a string (" + shown + ")";
            case NUMBER -> "a number (" + shown + ")";
            case BOOLEAN -> "a boolean (" + shown + ")";
            case ARRAY -> "a list";
            case OBJECT -> "an object";
            default -> shown;
        };
    }
}
