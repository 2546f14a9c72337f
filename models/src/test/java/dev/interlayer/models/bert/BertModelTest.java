package dev.interlayer.models.bert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dev.interlayer.models.io.HfFolder;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Input validation and the exact-GELU erf. */
class BertModelTest {
    @Test
    void erfMatchesTaylorSeriesAcrossAllBranches() {
        // Independent oracle: erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1)), summed in double until terms vanish
        // (accurate to ~1e-15 for |x| ≤ 3); the Java code uses Cody's rational approximations instead.
        SplittableRandom rnd = new SplittableRandom(11);
        for (int i = 0; i < 2000; i++) {
            double x = rnd.nextDouble(-3, 3);
            double term = x, sum = x;
            for (int n = 1; n < 200 && Math.abs(term) > 1e-18; n++) {
                term *= -x * x / n;
                sum += term / (2 * n + 1);
            }
            double expect = 2 / Math.sqrt(Math.PI) * sum;
            assertEquals(expect, Gelu.erf(x), 1e-12, "erf(" + x + ")");
        }
        assertEquals(1.0, Gelu.erf(10), 1e-15);
        assertEquals(-1.0, Gelu.erf(-10), 1e-15);
    }

    @Test
    void rejectsBadInputsWithClearMessages() throws Exception {
        Path dir = SharedModels.require("hf-tiny-random/bert_tiniest");
        try (HfFolder f = HfFolder.open(dir)) {
            BertModel m = BertModel.load(BertConfig.fromHuggingFace(f.config()), f.weights());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.encode(new int[][] {{101, 30522}}, null));
            assertTrue(e.getMessage().contains("token id 30522"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.encode(new int[][] {new int[513]}, null));
            assertTrue(e.getMessage().contains("at most 512"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.encode(new int[][] {{1, 2}}, new int[][] {{0}}));
            assertTrue(e.getMessage().contains("type ids"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.encode(new int[][] {{1}}, new int[][] {{2}}));
            assertTrue(e.getMessage().contains("token type 2"), e.getMessage());
        }
    }

    @Test
    void configValidation() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BertConfig.fromHuggingFace(JsonParser.parseString("{\"hidden_size\": 4}").getAsJsonObject()));
        assertTrue(e.getMessage().contains("vocab_size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new BertConfig(10, 6, 1, 4, 8, 16, 2, 1e-12f));
        assertTrue(e.getMessage().contains("not divisible"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BertConfig.fromHuggingFace(JsonParser.parseString(
                "{\"hidden_act\": \"relu\"}").getAsJsonObject()));
        assertTrue(e.getMessage().contains("relu"), e.getMessage());
    }
}
