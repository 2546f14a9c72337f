package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.testing.JsonArrays;
import org.junit.jupiter.api.Test;

/**
 * Decoder and encoder stacks against golden/stacks.json: final output and every hidden-state tap.
 * Decoders run as one prefill and token by token. Tolerance 1e-4 absolute (F32 vs float64).
 */
class StackGoldenTest {
    @Test
    void decoderMixLnSlidingMoe() {
        checkDecoder("decoder_mixln_sliding_moe");
    }

    @Test
    void decoderGemmaLike() {
        checkDecoder("decoder_gemma_like");
    }

    private static void checkDecoder(String name) {
        JsonObject c = Golden.find("stacks.json", name);
        DecoderStack stack = new Golden.Builder(c.getAsJsonObject("weights")).decoder(c);
        int[] tokens = JsonArrays.ints(c.getAsJsonArray("tokens"));
        int t = tokens.length, d = stack.blocks().get(0).config().hidden();
        double atol = c.get("atol").getAsDouble();
        double[] expected = Golden.doubles(c.getAsJsonObject("output"));
        JsonArray taps = c.getAsJsonArray("taps");

        StackSession s = stack.newSession(16, t, true);
        float[] prefill = stack.forward(tokens, s).toFloatArray();
        double err = Runs.maxAbs(prefill, expected);
        double tapErr = 0;
        for (int l = 0; l < taps.size(); l++) {
            tapErr = Math.max(tapErr, Runs.maxAbs(s.tap(l).toFloatArray(), Golden.doubles(taps.get(l)
                    .getAsJsonObject())));
        }
        System.out.printf("stack %-28s prefill max abs err %.3e (taps %.3e)%n", name, err, tapErr);
        assertTrue(err <= atol && tapErr <= atol, name + " prefill: " + err + ", taps " + tapErr);

        StackSession s2 = stack.newSession(16, 1, true);
        float[] decoded = new float[t * d];
        double decTapErr = 0;
        for (int i = 0; i < t; i++) {
            Tensor y = stack.decode(tokens[i], s2);
            System.arraycopy(y.toFloatArray(), 0, decoded, i * d, d);
            double[] lastTap = Golden.doubles(taps.get(taps.size() - 1).getAsJsonObject());
            float[] got = s2.tap(taps.size() - 1).toFloatArray();
            for (int j = 0; j < d; j++) {
                decTapErr = Math.max(decTapErr, Math.abs(got[j] - lastTap[i * d + j]));
            }
        }
        double derr = Runs.maxAbs(decoded, expected);
        System.out.printf("stack %-28s decode  max abs err %.3e (last tap %.3e)%n", name, derr, decTapErr);
        assertTrue(derr <= atol && decTapErr <= atol, name + " decode: " + derr + ", tap " + decTapErr);
    }

    /** The encoder_bert_like case of stacks.json: its encoder, its padded input (tokens, valid mask) and the case. */
    record BertLike(JsonObject c, EncoderStack stack, int[] tokens, boolean[] valid) {
        static BertLike load() {
            JsonObject c = Golden.find("stacks.json", "encoder_bert_like");
            return new BertLike(c, new Golden.Builder(c.getAsJsonObject("weights")).encoder(c),
                    JsonArrays.ints(c.getAsJsonArray("tokens")), Golden.booleans(c, "valid"));
        }
    }

    @Test
    void encoderBertLike() {
        BertLike f = BertLike.load();
        JsonObject c = f.c();
        EncoderStack stack = f.stack();
        int[] tokens = f.tokens();
        boolean[] valid = f.valid();
        StackSession s = stack.newSession(16, true);
        double err = 0;
        for (int run = 0; run < 2; run++) { // a second call must not see the first call's cache
            err = Math.max(err, Runs.maxAbs(stack.forward(tokens, valid, s).toFloatArray(),
                    Golden.doubles(c.getAsJsonObject("output"))));
        }
        JsonArray taps = c.getAsJsonArray("taps");
        double tapErr = 0;
        for (int l = 0; l < taps.size(); l++) {
            tapErr = Math.max(tapErr, Runs.maxAbs(s.tap(l).toFloatArray(), Golden.doubles(taps.get(l)
                    .getAsJsonObject())));
        }
        System.out.printf("stack %-28s encode  max abs err %.3e (taps %.3e)%n", "encoder_bert_like", err, tapErr);
        assertTrue(err <= 1e-4 && tapErr <= 1e-4, "encoder: " + err + ", taps " + tapErr);
    }
}
