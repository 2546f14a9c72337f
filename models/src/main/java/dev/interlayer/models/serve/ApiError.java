package dev.interlayer.models.serve;

import com.google.gson.JsonObject;

/**
 * An error answered as OpenAI does: HTTP {@code status} and the body
 * {@code {"error":{"message":..., "type":..., "param":..., "code":null}}}.
 */
public final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String type;
    private final String param;

    /** An error with an explicit status and OpenAI error type; {@code param} names the offending field or is null. */
    public ApiError(int status, String type, String message, String param) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
    }

    /** 400 {@code invalid_request_error} about {@code param} (null when no single field is at fault). */
    public static ApiError invalid(String message, String param) {
        return new ApiError(400, "invalid_request_error", message, param);
    }

    /** The HTTP status. */
    public int status() {
        return status;
    }

    /** The body {@code {"error":{...}}}. */
    public JsonObject toJson() {
        JsonObject e = new JsonObject();
        e.addProperty("message", getMessage());
        e.addProperty("type", type);
        if (param == null) {
            e.add("param", com.google.gson.JsonNull.INSTANCE);
        } else {
            e.addProperty("param", param);
        }
        e.add("code", com.google.gson.JsonNull.INSTANCE);
        JsonObject o = new JsonObject();
        o.add("error", e);
        return o;
    }
}
