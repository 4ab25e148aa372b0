package org.retroinfer.serve;

/**
 * A request the server refuses, with what OpenAI's API answers in its place: the HTTP status and
 * the error object {@code {"error": {"message", "type", "param", "code"}}}.
 *
 * @see ErrorBody
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final int retryAfterSeconds;
    private final String allow;

    private ApiException(int status, String message, String type, String param, String code, int retryAfterSeconds,
                         String allow) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
        this.allow = allow;
    }

    private ApiException(int status, String message, String type, String param, String code, int retryAfterSeconds) {
        this(status, message, type, param, code, retryAfterSeconds, null);
    }

    /** 400: a parameter is missing, of the wrong type or out of range. */
    public static ApiException invalid(String param, String message) {
        return new ApiException(400, message, "invalid_request_error", param, null, 0);
    }

    /** 400 with a machine-readable code, e.g. {@code context_length_exceeded}. */
    public static ApiException invalid(String param, String code, String message) {
        return new ApiException(400, message, "invalid_request_error", param, code, 0);
    }

    /** 404 for a model the server does not serve, as OpenAI answers. */
    public static ApiException unknownModel(String model, String served) {
        return new ApiException(404, "The model '" + model + "' does not exist; this server serves '" + served + "'",
                "invalid_request_error", "model", "model_not_found", 0);
    }

    public static ApiException notFound(String method, String path) {
        return new ApiException(404, "Unknown endpoint " + method + " " + path
                + "; this server answers POST /v1/completions, POST /v1/chat/completions, GET /v1/models, GET /health and"
                + " GET /metrics", "invalid_request_error", null, "unknown_url", 0);
    }

    public static ApiException methodNotAllowed(String method, String path, String allowed) {
        return new ApiException(405, "Method " + method + " is not allowed on " + path + "; use " + allowed,
                "invalid_request_error", null, "method_not_allowed", 0, allowed);
    }

    public static ApiException tooLarge(long limit) {
        return new ApiException(413, "The request body is larger than " + limit + " bytes", "invalid_request_error",
                null, "request_too_large", 0);
    }

    /** 429: the server is full now; the client may retry after {@code seconds}. */
    public static ApiException busy(String message, int seconds) {
        return new ApiException(429, message, "rate_limit_error", null, "server_busy", seconds);
    }

    /** 500: the server failed on a request it accepted. */
    public static ApiException internal(String message) {
        return new ApiException(500, message, "server_error", null, null, 0);
    }

    /** 503: the server is shutting down. */
    public static ApiException unavailable(String message) {
        return new ApiException(503, message, "server_error", null, "shutting_down", 0);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    /** Seconds for a {@code Retry-After} header; 0 where there is none. */
    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** The methods an {@code Allow} header lists (405), or null. */
    public String allow() {
        return allow;
    }
}
