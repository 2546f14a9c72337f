package dev.interlayer.models.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.generate.GenerationResult;
import dev.interlayer.models.generate.Generator;
import dev.interlayer.models.generate.Sampler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The server over loopback with java.net.http on stories260K (no chat template: plain format): answers equal the
 * library's own {@link Generator} on the same prompt, streamed chunks concatenate to the whole answer, an
 * OpenAI-client payload round-trips, stop strings never leak, and 32 concurrent requests on 4 slots each equal
 * the same request run alone.
 */
class OpenAiServerTest {
    @RegisterExtension
    static final ServeFixture served = ServeFixture.served(ServeClient::stories, 4, 32, Duration.ofSeconds(20));

    static JsonObject chat(String user, int maxTokens) {
        JsonObject o = new JsonObject();
        o.addProperty("model", "stories260K.gguf");
        JsonArray msgs = new JsonArray();
        JsonObject m = new JsonObject();
        m.addProperty("role", "user");
        m.addProperty("content", user);
        msgs.add(m);
        o.add("messages", msgs);
        o.addProperty("temperature", 0);
        o.addProperty("max_tokens", maxTokens);
        return o;
    }

    static JsonObject completion(String prompt, int maxTokens) {
        JsonObject o = new JsonObject();
        o.addProperty("model", "stories260K.gguf");
        o.addProperty("prompt", prompt);
        o.addProperty("temperature", 0);
        o.addProperty("max_tokens", maxTokens);
        return o;
    }

    static String chatText(ServeClient.Answer a) {
        assertEquals(200, a.status(), a.json().toString());
        return a.json().getAsJsonArray("choices").get(0).getAsJsonObject().getAsJsonObject("message")
                .get("content").getAsString();
    }

    static String completionText(ServeClient.Answer a) {
        assertEquals(200, a.status(), a.json().toString());
        return a.json().getAsJsonArray("choices").get(0).getAsJsonObject().get("text").getAsString();
    }

    // The library's own greedy generation for a prompt, run outside the server.
    static GenerationResult direct(int[] prompt, int maxTokens, String... stops) {
        return served.generator().sampler(Sampler.greedy()).maxTokens(maxTokens)
                .stopTokens(served.model.stopTokens()).stopStrings(stops).build().generate(prompt, null);
    }

    @Test
    void chatAnswerEqualsTheLibrarysGenerationAndTheStreamConcatenatesToIt() throws Exception {
        ServeClient.Answer whole = served.client.post("/v1/chat/completions",
                chat("Tell me a story about a cat.", 40));
        GenerationResult ref = direct(served.model.chatPrompt(List.of(Map.of("role", "user",
                "content", "Tell me a story about a cat."))), 40);
        assertEquals(ref.text(), chatText(whole));
        JsonObject w = whole.json();
        assertEquals("chat.completion", w.get("object").getAsString());
        assertTrue(w.get("id").getAsString().startsWith("chatcmpl-"));
        assertEquals("stories260K.gguf", w.get("model").getAsString());
        JsonObject choice = w.getAsJsonArray("choices").get(0).getAsJsonObject();
        assertEquals(0, choice.get("index").getAsInt());
        assertEquals("assistant", choice.getAsJsonObject("message").get("role").getAsString());
        assertEquals(ref.stopReason() == GenerationResult.StopReason.MAX_TOKENS ? "length" : "stop",
                choice.get("finish_reason").getAsString());
        JsonObject usage = w.getAsJsonObject("usage");
        assertEquals(ref.promptTokens(), usage.get("prompt_tokens").getAsInt());
        assertEquals(ref.generatedTokens(), usage.get("completion_tokens").getAsInt());
        assertEquals(ref.promptTokens() + ref.generatedTokens(), usage.get("total_tokens").getAsInt());

        JsonObject req = chat("Tell me a story about a cat.", 40);
        req.addProperty("stream", true);
        ServeClient.Stream s = served.client.stream("/v1/chat/completions", req);
        assertEquals(200, s.status());
        assertTrue(s.contentType().startsWith("text/event-stream"), s.contentType());
        assertTrue(s.done(), "stream ends with data: [DONE]");
        assertEquals(chatText(whole), s.text());
        assertTrue(s.chunks().size() > 3, "streamed in pieces: " + s.chunks().size());
        assertEquals("assistant", s.chunks().get(0).getAsJsonArray("choices").get(0).getAsJsonObject()
                .getAsJsonObject("delta").get("role").getAsString());
        JsonObject last = s.chunks().get(s.chunks().size() - 1);
        assertEquals(choice.get("finish_reason"), last.getAsJsonArray("choices").get(0).getAsJsonObject()
                .get("finish_reason"));
        for (JsonObject c : s.chunks()) {
            assertEquals("chat.completion.chunk", c.get("object").getAsString());
            assertEquals(s.chunks().get(0).get("id"), c.get("id"));
        }
    }

    @Test
    void textCompletionStreamsAndStopsWithoutLeakingTheStopString() throws Exception {
        String prompt = "Once upon a time";
        String full = completionText(served.client.post("/v1/completions", completion(prompt, 60)));
        assertEquals(direct(served.model.completionPrompt(prompt), 60).text(), full);
        // a stop string from the middle of the greedy answer: the answer is cut just before its first occurrence
        String stop = full.substring(full.length() / 2, full.length() / 2 + 4);
        String expected = full.substring(0, full.indexOf(stop));
        JsonObject req = completion(prompt, 60);
        JsonArray stops = new JsonArray();
        stops.add(stop);
        stops.add("no such text anywhere");
        req.add("stop", stops);
        ServeClient.Answer whole = served.client.post("/v1/completions", req);
        assertEquals(expected, completionText(whole));
        assertEquals("stop", whole.json().getAsJsonArray("choices").get(0).getAsJsonObject()
                .get("finish_reason").getAsString());
        assertEquals("text_completion", whole.json().get("object").getAsString());
        req.addProperty("stream", true);
        ServeClient.Stream s = served.client.stream("/v1/completions", req);
        assertTrue(s.done());
        assertEquals(expected, s.text(), "no part of the stop string is streamed");
        req.remove("stop");
        req.addProperty("stop", stop);   // a single string works as well
        assertEquals(expected, served.client.stream("/v1/completions", req).text());
    }

    @Test
    void openAiClientPayloadRoundTrips() throws Exception {
        // the body the official openai client sends for client.chat.completions.create(..., stream=True,
        // stream_options={"include_usage": True}), including fields this server ignores
        String body = """
                {"messages":[{"role":"system","content":"You are a storyteller."},
                  {"role":"user","content":[{"type":"text","text":"A story about "},{"type":"text","text":"a dog."}]}],
                 "model":"stories260K.gguf","frequency_penalty":0,"presence_penalty":0,"logit_bias":null,
                 "max_completion_tokens":24,"n":1,"seed":7,"stream":true,"stream_options":{"include_usage":true},
                 "temperature":0.0,"top_p":1,"user":"test-user","parallel_tool_calls":null}""";
        ServeClient.Stream s = served.client.stream("/v1/chat/completions",
                JsonParser.parseString(body).getAsJsonObject());
        assertEquals(200, s.status());
        assertTrue(s.done());
        GenerationResult ref = direct(served.model.chatPrompt(List.of(Map.of("role", "system", "content",
                "You are a storyteller."), Map.of("role", "user", "content", "A story about a dog."))), 24);
        assertEquals(ref.text(), s.text());
        JsonObject usageChunk = s.chunks().get(s.chunks().size() - 1);
        assertEquals(0, usageChunk.getAsJsonArray("choices").size(), "usage chunk has no choices");
        JsonObject u = usageChunk.getAsJsonObject("usage");
        assertEquals(ref.promptTokens(), u.get("prompt_tokens").getAsInt());
        assertEquals(ref.generatedTokens(), u.get("completion_tokens").getAsInt());
        assertEquals(ref.promptTokens() + ref.generatedTokens(), u.get("total_tokens").getAsInt());
        for (JsonObject c : s.chunks()) {
            for (String k : List.of("id", "object", "created", "model", "choices")) {
                assertTrue(c.has(k), k + " in " + c);
            }
        }
        ServeClient.Answer models = served.client.get("/v1/models");
        JsonObject m = models.json().getAsJsonArray("data").get(0).getAsJsonObject();
        assertEquals("stories260K.gguf", m.get("id").getAsString());
        assertEquals("model", m.get("object").getAsString());
        assertEquals("plain", m.get("chat_format").getAsString(), "no template in stories260K: plain format");
        assertEquals("ok", served.client.get("/health").json().get("status").getAsString());
    }

    @Test
    void thirtyTwoConcurrentRequestsOnFourSlotsEqualEachRunAlone() throws Exception {
        List<JsonObject> requests = new ArrayList<>();
        String[] starts = {"Once upon a time", "The little dog", "Lily wanted", "One day, Tom", "The sun was"};
        for (int i = 0; i < 32; i++) {
            JsonObject r = i % 2 == 0 ? completion(starts[i % starts.length], 8 + 3 * (i % 7))
                    : chat(starts[i % starts.length] + " " + i, 8 + 3 * (i % 7));
            if (i % 3 == 0) {   // seeded sampling must also be reproducible per request
                r.addProperty("temperature", 0.9);
                r.addProperty("top_k", 20);
                r.addProperty("seed", 1000 + i);
            }
            requests.add(r);
        }
        List<CompletableFuture<ServeClient.Answer>> futures = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            futures.add(served.client.postAsync(i % 2 == 0 ? "/v1/completions" : "/v1/chat/completions",
                    requests.get(i)));
        }
        List<ServeClient.Answer> together = new ArrayList<>();
        for (CompletableFuture<ServeClient.Answer> f : futures) {
            together.add(f.get());
        }
        for (int i = 0; i < requests.size(); i++) {
            boolean chat = i % 2 != 0;
            ServeClient.Answer alone = served.client.post(chat ? "/v1/chat/completions" : "/v1/completions",
                    requests.get(i));
            String a = chat ? chatText(alone) : completionText(alone);
            String t = chat ? chatText(together.get(i)) : completionText(together.get(i));
            assertEquals(a, t, "request " + i);
            assertFalse(a.isEmpty(), "request " + i);
            assertEquals(alone.json().get("usage"), together.get(i).json().get("usage"), "request " + i);
        }
        assertEquals(0, served.server.scheduler().stats().rejected());
    }

    @Test
    void chatPromptComesFromTheModelsTemplateAndARefusalIsA400() throws Exception {
        // stories260K has no template: serve it with one (Mistral-style, refusing out-of-order roles)
        String source = "{{ bos_token }}{% for m in messages %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}"
                + "{{ raise_exception('roles must alternate') }}{% endif %}{% if m['role'] == 'user' %}"
                + "{{ '[INST] ' + m['content'].strip() + ' [/INST]' }}{% else %}{{ ' ' + m['content'] + eos_token }}"
                + "{% endif %}{% endfor %}";
        var tok = served.model.tokenizer();
        var template = new dev.interlayer.models.chat.ChatTemplate(source, tok.tokenText(tok.bos().getAsInt()),
                tok.tokenText(tok.eos().getAsInt()));
        ServedModel templated = ServedModel.decoder("templated", served.model.lm().orElseThrow(), tok, template);
        try (OpenAiServer s = OpenAiServer.start(templated, new OpenAiServer.Options("127.0.0.1", 0, 1, 2,
                Duration.ofSeconds(20), 1 << 20))) {
            ServeClient c = new ServeClient(s.port());
            JsonObject req = chat("  Once upon a time ", 12);
            req.addProperty("model", "templated");
            String rendered = template.render(List.of(Map.of("role", "user", "content", "  Once upon a time ")), true);
            // the rendered text holds BOS as text: parsed as the special token, none added
            int[] prompt = tok.encode(rendered, false, true);
            assertEquals(tok.bos().getAsInt(), prompt[0]);
            assertEquals(direct(prompt, 12).text(), chatText(c.post("/v1/chat/completions", req)));
            assertEquals("template", c.get("/v1/models").json().getAsJsonArray("data").get(0).getAsJsonObject()
                    .get("chat_format").getAsString());
            JsonObject bad = req.deepCopy();
            bad.getAsJsonArray("messages").get(0).getAsJsonObject().addProperty("role", "assistant");
            ServeClient.Answer refused = c.post("/v1/chat/completions", bad);
            ServeClient.assertError(refused, 400, "invalid_request_error", "messages");
            assertTrue(refused.json().getAsJsonObject("error").get("message").getAsString()
                    .contains("roles must alternate"), refused.json().toString());
        }
    }
}
