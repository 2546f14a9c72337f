package dev.interlayer.models.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import dev.interlayer.quant.ClipSearch;
import dev.interlayer.quant.Rtn;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The cached float model gives {@link LmEval} the same numbers as the model itself, on the first (recording) and on
 * later (replaying) evaluations. Not bit for bit: two evaluations of the same engine model already differ in the
 * last float digits (observed: 1e-7 relative in PPL, 5e-6 in the KLD mean here), so the comparison allows 1e-4
 * relative, far below any difference between quantized models (a 3-bit linear: KLD 2.5e-3 against 0).
 */
class CachedReferenceTest {
    @Test
    void replaysTheRecordedReferenceRows() throws IOException {
        var path = SharedModels.require("stories260K/stories260K.gguf");
        try (LoadedModel ref = ModelLoader.open(path); GgufFile file = Gguf.open(path)) {
            int[] ids = ref.tokenizer().encode(SimulatedQuantizationTest.HELD_OUT);
            var t = file.tensor("blk.1.attn_q.weight");
            float[] w = t.toF32().toFloatArray();
            var q = Rtn.quantize(w, t.dim(0), t.dim(1), LadderFormat.parse("i3").scheme(ClipSearch.NONE));
            var model = SequentialQuantizer.decoder(file, Map.of("blk.1.attn_q.weight",
                    Tensor.wrap(q.dequantize(), Shape.of(t.dim(0), t.dim(1)))));
            LmEval.Result direct = LmEval.evaluate(model, ref.requireLm(), ids, 32);
            var cached = new CachedReference(ref.requireLm(), ids);
            LmEval.Result recorded = null;
            for (int pass = 0; pass < 2; pass++) {             // pass 0 records, pass 1 replays
                LmEval.Result c = LmEval.evaluate(model, cached, ids, 32);
                if (recorded == null) {
                    recorded = c;
                } else {    // the reference side of pass 1 is pass 0's stored rows: the same numbers exactly
                    assertEquals(recorded.referencePerplexity(), c.referencePerplexity(), 0.0, "replayed reference");
                }
                assertEquals(direct.referencePerplexity(), c.referencePerplexity(), 1e-4 * direct.referencePerplexity(),
                        "pass " + pass);
                assertEquals(direct.klMean(), c.klMean(), 1e-4 * direct.klMean(), "pass " + pass);
                assertEquals(direct.kl99(), c.kl99(), 1e-4 * direct.kl99(), "pass " + pass);
                assertEquals(direct.top1(), c.top1(), 1.0 / direct.predictions(), "pass " + pass);
            }
            assertTrue(direct.klMean() > 0, "a 3-bit linear changes the model");
            int[] other = ids.clone();
            var e = assertThrows(IllegalArgumentException.class, () -> LmEval.evaluate(model, cached, other, 32));
            assertTrue(e.getMessage().contains("one token array"), e.getMessage());
        }
    }
}
