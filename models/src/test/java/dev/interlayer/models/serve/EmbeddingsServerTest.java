package dev.interlayer.models.serve;

import static dev.interlayer.models.serve.ServeClient.assertError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.interlayer.models.SharedModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * /v1/embeddings on an encoder (the synthetic BERT GGUF): the vectors agree with {@code EmbeddingModel.embed} on
 * the same texts to float32 rounding, as float lists and as OpenAI's base64 little-endian float32, and both body
 * forms carry every bit of the vectors they are given; completions on an encoder are a 400.
 */
class EmbeddingsServerTest {
    private static final float TOL = 1e-5f;
    @RegisterExtension
    static final ServeFixture served = ServeFixture.served(
            () -> ServedModel.open(SharedModels.require("synthetic/synth-bert-f32.gguf")), 2, 4,
            Duration.ofSeconds(20));

    static JsonObject request(List<String> texts, String format) {
        JsonObject o = new JsonObject();
        o.addProperty("model", "synth-bert-f32.gguf");
        JsonArray in = new JsonArray();
        texts.forEach(in::add);
        o.add("input", in);
        if (format != null) {
            o.addProperty("encoding_format", format);
        }
        return o;
    }

    @Test
    void embeddingsEqualTheLibrarysInFloatAndBase64() throws Exception {
        List<String> texts = List.of("hello world", "the quick brown fox", "");
        // The server calls the same EmbeddingModel.embed, but in another call: the Vector API's lane sums (layer
        // norm, attention scores, softmax) may be added in another order once C2 has compiled them, so the two
        // calls agree to float32 rounding, not bit for bit. The vectors are L2-normalised (components <= 1):
        // TOL = 1e-5 is ~80 float32 ulps at 1, while a wrong text, pooling or row gives differences of 1e-2 and
        // more. That JSON and base64 lose no bits is checked exactly on one set of vectors below.
        List<float[]> want = served.model.embedder().orElseThrow().embed(texts);
        ServeClient.Answer a = served.client.post("/v1/embeddings", request(texts, null));
        assertEquals(200, a.status(), a.json().toString());
        assertEquals("list", a.json().get("object").getAsString());
        JsonArray data = a.json().getAsJsonArray("data");
        assertEquals(texts.size(), data.size());
        for (int i = 0; i < texts.size(); i++) {
            JsonObject e = data.get(i).getAsJsonObject();
            assertEquals("embedding", e.get("object").getAsString());
            assertEquals(i, e.get("index").getAsInt());
            JsonArray v = e.getAsJsonArray("embedding");
            float[] got = new float[v.size()];
            for (int j = 0; j < got.length; j++) {
                got[j] = v.get(j).getAsFloat();
            }
            assertArrayEquals(want.get(i), got, TOL, "text " + i);
        }
        // usage counts what the encoder read: [CLS] + word pieces + [SEP] of every input, from the encoder's own
        // tokenizer (not the server's helper): [CLS] and [SEP] at least, plus a piece unless empty
        int wantTokens = 0;
        for (String t : texts) {
            int n = served.model.embedder().orElseThrow().tokenIds(t).length;
            assertTrue(n >= (t.isEmpty() ? 2 : 3), "text '" + t + "' has " + n + " tokens");
            wantTokens += n;
        }
        assertEquals(wantTokens, a.json().getAsJsonObject("usage").get("prompt_tokens").getAsInt());

        ServeClient.Answer b = served.client.post("/v1/embeddings", request(texts, "base64"));
        for (int i = 0; i < texts.size(); i++) {
            byte[] raw = Base64.getDecoder().decode(b.json().getAsJsonArray("data").get(i).getAsJsonObject()
                    .get("embedding").getAsString());
            float[] got = new float[raw.length / 4];
            ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(got);
            assertArrayEquals(want.get(i), got, TOL, "base64 text " + i);
        }
        JsonObject single = request(List.of(), null);
        single.addProperty("input", "hello world");
        ServeClient.Answer s = served.client.post("/v1/embeddings", single);
        assertEquals(1, s.json().getAsJsonArray("data").size());
    }

    @Test
    void floatAndBase64BodiesCarryEveryBit() {
        // the response body the server sends (Responses.embeddings, written with JsonObject.toString as
        // Http.sendJson does) read back as a client reads it: no computation in between, so exact
        List<float[]> v = List.of(new float[] {0.1f, -1f / 3, Float.MIN_VALUE, 1e-38f, 123456.79f, -0f},
                new float[] {0.70710677f, Math.nextUp(0.5f)});
        for (boolean base64 : new boolean[] {false, true}) {
            JsonArray data = com.google.gson.JsonParser.parseString(Responses.embeddings(v, base64, "m", 3)
                    .toString()).getAsJsonObject().getAsJsonArray("data");
            for (int i = 0; i < v.size(); i++) {
                float[] got;
                if (base64) {
                    byte[] raw = Base64.getDecoder().decode(data.get(i).getAsJsonObject().get("embedding")
                            .getAsString());
                    got = new float[raw.length / 4];
                    ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(got);
                } else {
                    JsonArray a = data.get(i).getAsJsonObject().getAsJsonArray("embedding");
                    got = new float[a.size()];
                    for (int j = 0; j < got.length; j++) {
                        got[j] = a.get(j).getAsFloat();
                    }
                }
                assertArrayEquals(v.get(i), got, (base64 ? "base64" : "float") + " vector " + i);
            }
        }
    }

    @Test
    void encoderRefusesCompletionsAndBadEmbeddingInput() throws Exception {
        assertError(served.client.post("/v1/chat/completions", OpenAiServerTest.chat("hi", 3)), 400,
                "invalid_request_error", "model");
        JsonObject ids = request(List.of(), null);
        JsonArray tokens = new JsonArray();
        tokens.add(1);
        tokens.add(2);
        ids.add("input", tokens);
        assertError(served.client.post("/v1/embeddings", ids), 400, "invalid_request_error", "input");
        assertError(served.client.post("/v1/embeddings", request(List.of("x"), "int8")), 400, "invalid_request_error",
                "encoding_format");
        JsonObject dims = request(List.of("x"), null);
        dims.addProperty("dimensions", 7);
        assertError(served.client.post("/v1/embeddings", dims), 400, "invalid_request_error", "dimensions");
        assertEquals("embedding", served.client.get("/v1/models").json().getAsJsonArray("data").get(0)
                .getAsJsonObject().get("kind").getAsString());
    }
}
