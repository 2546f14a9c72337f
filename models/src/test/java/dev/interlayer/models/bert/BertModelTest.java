package dev.interlayer.models.bert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dev.interlayer.models.SharedModels;
import dev.interlayer.models.io.HfFolder;
import dev.interlayer.models.io.ModelFormatException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Input and config validation. */
class BertModelTest {
    @Test
    void weightThatDoesNotFitTheConfigNamesFileTensorAndShapes() throws Exception {
        Path dir = SharedModels.require("hf-tiny-random/bert_tiniest");
        try (HfFolder f = HfFolder.open(dir)) {
            BertConfig c = BertConfig.fromHuggingFace(f.config());
            BertConfig wider = new BertConfig(c.vocabSize(), c.hidden(), c.layers(), c.heads(), c.intermediate() + 1,
                    c.maxPositions(), c.typeVocabSize(), c.layerNormEps());
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> BertModel.load(wider, f.weights(), dir));
            String m = e.getMessage();
            assertTrue(m.contains(dir.getFileName().toString()) && m.contains("encoder.layer.0.intermediate.dense.weight")
                    && m.contains("[" + (c.intermediate() + 1) + ", " + c.hidden() + "]"), m);
        }
    }

    @Test
    void rejectsBadInputsWithClearMessages() throws Exception {
        Path dir = SharedModels.require("hf-tiny-random/bert_tiniest");
        try (HfFolder f = HfFolder.open(dir)) {
            BertModel m = BertModel.load(BertConfig.fromHuggingFace(f.config()), f.weights(), f.dir());
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
    void emptySequenceInABatchAddsNoRowsAndChangesNothing() throws Exception {
        // Packed rows: an empty sequence contributes zero rows, so the other rows must equal the batch
        // without it (attention only ever looks within a sequence's own rows). Not bit-exact: the two encodes
        // are separate runs, and the Vector API's interpreted fallback and C2 intrinsics round reductions and
        // exp/erf differently, so a JIT compilation between them moves the last bits. 1e-5 on these O(1)
        // hidden states is ~100 ulp; a leak from another sequence would move them by 1e-2 or more.
        try (HfFolder f = HfFolder.open(SharedModels.require("hf-tiny-random/bert_tiniest"))) {
            BertModel m = BertModel.load(BertConfig.fromHuggingFace(f.config()), f.weights(), f.dir());
            int[] a = new int[40], b = {101, 7592, 102};
            for (int i = 0; i < a.length; i++) {
                a[i] = 1000 + 37 * i;                    // ≥ MATMUL_ATTENTION_MIN tokens: the GEMM attention path
            }
            float[] without = m.encode(new int[][] {a, b}, null).toFloatArray();
            float[] with = m.encode(new int[][] {a, {}, b}, null).toFloatArray();
            assertArrayEquals(without, with, 1e-5f);
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
