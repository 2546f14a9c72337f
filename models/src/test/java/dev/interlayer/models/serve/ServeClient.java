package dev.interlayer.models.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A loopback test client over java.net.http: JSON posts, and server-sent-event streams split into chunks. */
final class ServeClient {
    /** A response: status and parsed JSON body. */
    record Answer(int status, JsonObject json) {
    }

    /** A streamed response: every {@code data:} payload before {@code [DONE]}, and whether [DONE] came. */
    record Stream(int status, String contentType, List<JsonObject> chunks, boolean done) {
        /** Concatenated delta texts (chat: delta.content; completions: text). */
        String text() {
            StringBuilder sb = new StringBuilder();
            for (JsonObject c : chunks) {
                var choices = c.getAsJsonArray("choices");
                if (choices == null || choices.isEmpty()) {
                    continue;
                }
                JsonObject ch = choices.get(0).getAsJsonObject();
                if (ch.has("delta")) {
                    JsonObject d = ch.getAsJsonObject("delta");
                    if (d.has("content")) {
                        sb.append(d.get("content").getAsString());
                    }
                } else if (ch.has("text")) {
                    sb.append(ch.get("text").getAsString());
                }
            }
            return sb.toString();
        }
    }

    /** stories260K, the small generation model of these tests (skips without ../shared/models). */
    static ServedModel stories() throws IOException {
        return ServedModel.open(dev.interlayer.models.SharedModels.require("stories260K/stories260K.gguf"));
    }

    /** Closes each non-null resource in order (servers before the model they serve). */
    static void closeAll(AutoCloseable... resources) throws Exception {
        for (AutoCloseable r : resources) {
            if (r != null) {
                r.close();
            }
        }
    }

    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    final String base;

    ServeClient(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    HttpRequest post(String path, String body) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    Answer send(HttpRequest req) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), JsonParser.parseString(r.body()).getAsJsonObject());
    }

    Answer post(String path, JsonObject body) throws IOException, InterruptedException {
        return send(post(path, body.toString()));
    }

    CompletableFuture<Answer> postAsync(String path, JsonObject body) {
        return http.sendAsync(post(path, body.toString()), HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> new Answer(r.statusCode(), JsonParser.parseString(r.body()).getAsJsonObject()));
    }

    Answer get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).GET().build());
    }

    /** Posts with {@code stream} set and reads the SSE stream to its end. */
    Stream stream(String path, JsonObject body) throws IOException, InterruptedException {
        HttpResponse<InputStream> r = http.send(post(path, body.toString()), HttpResponse.BodyHandlers.ofInputStream());
        List<JsonObject> chunks = new ArrayList<>();
        boolean done = false;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.isEmpty()) {
                    continue;
                }
                assertTrue(line.startsWith("data: "), "SSE line: " + line);
                String data = line.substring(6);
                if (data.equals("[DONE]")) {
                    done = true;
                    for (String rest; (rest = in.readLine()) != null; ) {
                        assertTrue(rest.isEmpty(), "after [DONE]: " + rest);
                    }
                    break;
                }
                chunks.add(JsonParser.parseString(data).getAsJsonObject());
            }
        }
        return new Stream(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), chunks, done);
    }

    /** Asserts an OpenAI error body with this status and type, naming {@code param} (or none). */
    static void assertError(Answer a, int status, String type, String param) {
        assertEquals(status, a.status(), a.json().toString());
        JsonObject e = a.json().getAsJsonObject("error");
        assertEquals(type, e.get("type").getAsString(), a.json().toString());
        assertTrue(!e.get("message").getAsString().isBlank());
        assertEquals(param, e.get("param").isJsonNull() ? null : e.get("param").getAsString(), a.json().toString());
    }
}
