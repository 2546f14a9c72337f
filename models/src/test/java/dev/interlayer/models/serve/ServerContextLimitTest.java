package dev.interlayer.models.serve;

import static dev.interlayer.models.serve.ServeClient.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.interlayer.models.generate.CausalLM;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The server's per-request context limit ({@code serve --ctx}): a request may use at most that many positions,
 * prompt included; a prompt that does not fit and a {@code max_tokens} beyond what is left are refused with 400
 * naming the limit, and a request without {@code max_tokens} generates up to the limit, not the model's context.
 */
class ServerContextLimitTest {
    static final int LIMIT = 48;   // stories260K's own context is 2048
    // served: stories260K (model) behind a view limited to LIMIT positions (view), decoded sequentially
    @RegisterExtension
    static final ServeFixture served = ServeFixture.served(ServeClient::stories,
            full -> ServedModel.decoder("stories260K.gguf", full.lm().orElseThrow(), full.tokenizer(), null, LIMIT),
            1, 4, Duration.ofSeconds(30), DecodeStep.sequential());

    @Test
    void theLimitIsTheSmallerOfTheModelsContextAndTheServers() {
        ServedModel full = served.model;
        CausalLM lm = full.lm().orElseThrow();
        assertEquals(LIMIT, served.view.contextLength());
        assertEquals(lm.contextLength(), full.contextLength());
        assertEquals(lm.contextLength(),
                ServedModel.decoder("x", lm, full.tokenizer(), null, lm.contextLength() + 1000).contextLength());
        assertEquals(lm.contextLength(), ServedModel.decoder("x", lm, full.tokenizer(), null, 0).contextLength());
        assertThrows(IllegalArgumentException.class, () -> ServedModel.decoder("x", lm, full.tokenizer(), null, -1));
    }

    @Test
    void modelsListsTheLimit() throws Exception {
        ServeClient.Answer a = served.client.get("/v1/models");
        assertEquals(200, a.status());
        assertEquals(LIMIT, a.json().getAsJsonArray("data").get(0).getAsJsonObject().get("max_model_len").getAsInt());
    }

    @Test
    void aPromptLongerThanTheLimitIsRefusedNamingIt() throws Exception {
        JsonObject req = OpenAiServerTest.completion("and then ".repeat(LIMIT), 4);
        ServeClient.Answer a = served.client.post("/v1/completions", req);
        assertError(a, 400, "invalid_request_error", "prompt");
        String message = a.json().getAsJsonObject("error").get("message").getAsString();
        assertTrue(message.contains("context of " + LIMIT) && message.contains("--ctx"), message);
    }

    @Test
    void maxTokensBeyondWhatIsLeftIsRefused() throws Exception {
        ServeClient.Answer a = served.client.post("/v1/completions",
                OpenAiServerTest.completion("Once upon a time", LIMIT));
        assertError(a, 400, "invalid_request_error", "max_tokens");
    }

    @Test
    void withoutMaxTokensTheAnswerStopsAtTheLimit() throws Exception {
        JsonObject req = OpenAiServerTest.completion("Once upon a time", 1);
        req.remove("max_tokens");
        ServeClient.Answer a = served.client.post("/v1/completions", req);
        assertEquals(200, a.status(), a.json().toString());
        JsonObject usage = a.json().getAsJsonObject("usage");
        int prompt = usage.get("prompt_tokens").getAsInt();
        String finish = a.json().getAsJsonArray("choices").get(0).getAsJsonObject().get("finish_reason")
                .getAsString();
        // stories260K does not end this story within 48 positions (greedy), so the limit is what stops it
        assertEquals("length", finish, a.json().toString());
        assertEquals(LIMIT - prompt, usage.get("completion_tokens").getAsInt());
        assertEquals(LIMIT, usage.get("total_tokens").getAsInt());
    }
}
