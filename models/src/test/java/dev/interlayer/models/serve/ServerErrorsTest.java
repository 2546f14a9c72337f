package dev.interlayer.models.serve;

import static dev.interlayer.models.serve.ServeClient.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Bad requests get a 4xx JSON error naming the field and the server keeps serving; a full queue answers 503; a
 * client that disconnects mid-stream frees its slot at once; a request past its timeout is ended with 504. The
 * slow cases use a decode step that sleeps before each token, so that "at once" is measurable on a tiny model.
 */
class ServerErrorsTest {
    @RegisterExtension
    static final ServeFixture served = ServeFixture.model(ServeClient::stories);

    // The sequential step, slowed by {@code millis} per token.
    static DecodeStep slow(long millis) {
        DecodeStep seq = DecodeStep.sequential();
        return active -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            seq.step(active);
        };
    }

    static OpenAiServer start(int parallel, int queue, Duration timeout, DecodeStep step) throws Exception {
        return OpenAiServer.start(served.model, ServeFixture.options(parallel, queue, timeout), step);
    }

    static JsonObject with(JsonObject base, Consumer<JsonObject> edit) {
        JsonObject o = base.deepCopy();
        edit.accept(o);
        return o;
    }

    @Test
    void everyBadRequestGetsA4xxJsonErrorAndTheNextGoodOneSucceeds() throws Exception {
        try (OpenAiServer server = start(1, 4, Duration.ofSeconds(20), DecodeStep.sequential())) {
            ServeClient c = new ServeClient(server.port());
            JsonObject good = OpenAiServerTest.chat("Hello", 5);
            String expected = OpenAiServerTest.chatText(c.post("/v1/chat/completions", good));
            Runnable stillServing = () -> {
                try {
                    assertEquals(expected, OpenAiServerTest.chatText(c.post("/v1/chat/completions", good)));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            };
            String chat = "/v1/chat/completions";
            assertError(c.send(c.post(chat, "{\"model\": ")), 400, "invalid_request_error", null);
            stillServing.run();
            assertError(c.send(c.post(chat, "[1, 2]")), 400, "invalid_request_error", null);
            assertError(c.send(c.post(chat, "{model: 'x'}")), 400, "invalid_request_error", null);   // lenient JSON
            assertError(c.send(c.post(chat, good + " trailing")), 400, "invalid_request_error", null);
            stillServing.run();
            assertError(c.post(chat, with(good, o -> o.addProperty("model", "gpt-4o"))), 400,
                    "invalid_request_error", "model");
            stillServing.run();
            assertError(c.post(chat, with(good, o -> o.addProperty("max_tokens", -5))), 400,
                    "invalid_request_error", "max_tokens");
            assertError(c.post(chat, with(good, o -> o.addProperty("max_completion_tokens", 0))), 400,
                    "invalid_request_error", "max_completion_tokens");
            stillServing.run();
            assertError(c.post(chat, with(good, o -> o.addProperty("temperature", "hot"))), 400,
                    "invalid_request_error", "temperature");
            assertError(c.post(chat, with(good, o -> o.addProperty("max_tokens", 2.5))), 400,
                    "invalid_request_error", "max_tokens");
            assertError(c.post(chat, with(good, o -> o.addProperty("stop", 5))), 400, "invalid_request_error", "stop");
            assertError(c.post(chat, with(good, o -> o.addProperty("stream", "yes"))), 400, "invalid_request_error",
                    "stream");
            assertError(c.post(chat, with(good, o -> o.addProperty("top_p", 0))), 400, "invalid_request_error",
                    "top_p");
            assertError(c.post(chat, with(good, o -> o.addProperty("messages", "hi"))), 400,
                    "invalid_request_error", "messages");
            assertError(c.post(chat, with(good, o -> o.add("messages", new JsonArray()))), 400,
                    "invalid_request_error", "messages");
            assertError(c.post(chat, with(good, o -> o.addProperty("n", 2))), 400, "invalid_request_error", "n");
            stillServing.run();
            int context = served.model.lm().orElseThrow().contextLength();
            JsonObject longPrompt = OpenAiServerTest.completion("and then ".repeat(context), 5);   // > context tokens
            assertError(c.post("/v1/completions", longPrompt), 400, "invalid_request_error", "prompt");
            assertError(c.post("/v1/completions", with(longPrompt, o -> o.add("prompt", new JsonArray()))), 400,
                    "invalid_request_error", "prompt");
            assertError(c.post("/v1/embeddings", JsonParser.parseString("{\"input\":\"x\"}").getAsJsonObject()), 400,
                    "invalid_request_error", "model");
            stillServing.run();
            // 10 MB body against the 1 MB limit
            String huge = "{\"model\":\"stories260K.gguf\",\"prompt\":\"" + "a".repeat(10 << 20) + "\"}";
            assertError(c.send(c.post("/v1/completions", huge)), 413, "invalid_request_error", null);
            stillServing.run();
            assertError(c.get("/v1/chat/completions"), 405, "invalid_request_error", null);
            assertError(c.get("/v2/nothing"), 404, "invalid_request_error", null);
            stillServing.run();
            assertEquals(0, server.scheduler().stats().failed());
        }
    }

    @Test
    void fullQueueAnswers503() throws Exception {
        try (OpenAiServer server = start(1, 1, Duration.ofSeconds(20), slow(10))) {
            ServeClient c = new ServeClient(server.port());
            CompletableFuture<ServeClient.Answer> running = c.postAsync("/v1/completions",
                    OpenAiServerTest.completion("Once upon a time", 30));
            waitFor(() -> server.scheduler().stats().admitted() == 1, "first request admitted");
            CompletableFuture<ServeClient.Answer> waiting = c.postAsync("/v1/completions",
                    OpenAiServerTest.completion("The dog", 5));
            waitFor(() -> server.scheduler().waiting() == 1, "second request queued");
            assertError(c.post("/v1/completions", OpenAiServerTest.completion("The cat", 5)), 503, "server_error",
                    null);
            assertEquals(200, running.get().status());
            assertEquals(200, waiting.get().status(), "the queued request is served once the slot frees");
            assertEquals(1, server.scheduler().stats().rejected());
        }
    }

    @Test
    void clientThatDisconnectsMidStreamFreesItsSlotAtOnce() throws Exception {
        try (OpenAiServer server = start(1, 4, Duration.ofSeconds(20), slow(10))) {
            ServeClient c = new ServeClient(server.port());
            // 400 tokens at >= 10 ms each would hold the only slot for 4 s or more
            JsonObject req = OpenAiServerTest.completion("Once upon a time", 400);
            req.addProperty("stream", true);
            HttpResponse<InputStream> r = c.http.send(c.post("/v1/completions", req.toString()),
                    HttpResponse.BodyHandlers.ofInputStream());
            BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
            assertTrue(in.readLine().startsWith("data: "));
            long t0 = System.nanoTime();
            in.close();   // the client goes away mid-stream
            waitFor(() -> server.scheduler().stats().cancelled() == 1, "the abandoned request cancelled");
            ServeClient.Answer next = c.post("/v1/completions", OpenAiServerTest.completion("The dog", 5));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(200, next.status());
            assertTrue(ms < 2_000, "next request served " + ms + " ms after the disconnect (the slot was freed)");
            assertEquals(1, server.scheduler().stats().completed());
        }
    }

    @Test
    void requestPastItsTimeoutIsEndedWith504AndFreesItsSlot() throws Exception {
        try (OpenAiServer server = start(1, 4, Duration.ofMillis(400), slow(10))) {
            ServeClient c = new ServeClient(server.port());
            assertError(c.post("/v1/completions", OpenAiServerTest.completion("Once upon a time", 300)), 504,
                    "timeout_error", null);
            JsonObject req = OpenAiServerTest.completion("Once upon a time", 300);
            req.addProperty("stream", true);
            ServeClient.Stream s = c.stream("/v1/completions", req);
            assertTrue(s.done(), "a timed-out stream still ends with [DONE]");
            assertEquals("timeout_error", s.chunks().get(s.chunks().size() - 1).getAsJsonObject("error")
                    .get("type").getAsString());
            waitFor(() -> server.scheduler().stats().cancelled() == 2, "both timed-out requests cancelled");
            assertEquals(200, c.post("/v1/completions", OpenAiServerTest.completion("The dog", 3)).status());
        }
    }

    @Test
    void unknownHttpMethodAndHealthOnEncoderlessServer() throws Exception {
        try (OpenAiServer server = start(1, 1, Duration.ofSeconds(5), DecodeStep.sequential())) {
            ServeClient c = new ServeClient(server.port());
            HttpResponse<String> r = c.http.send(HttpRequest.newBuilder(URI.create(c.base + "/health"))
                    .method("DELETE", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, r.statusCode());
            assertEquals("invalid_request_error", JsonParser.parseString(r.body()).getAsJsonObject()
                    .getAsJsonObject("error").get("type").getAsString());
            assertEquals(200, c.get("/health").status());
        }
    }

    static void waitFor(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }
}
