package dev.interlayer.models.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.embed.EmbeddingModel;
import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The quality harness: perplexity against a token-by-token hand computation; a model against itself. */
class LmEvalTest {
    // BOS + a greedy stories260K continuation of "Once upon a time" (llama.cpp), then a few other ids
    static final int[] IDS = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401,
            396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394};

    @Test
    void perplexityEqualsTheGptqFormulaComputedTokenByToken() throws IOException {
        try (LoadedModel m = ModelLoader.open(SharedModels.require("stories260K/stories260K.gguf"))) {
            CausalLM lm = m.requireLm();
            int ctx = 5;                                    // 37 ids: 7 windows, the last 2 ids dropped
            LmEval.Result r = LmEval.evaluate(lm, null, IDS, ctx);
            assertEquals(7, r.windows());
            assertEquals(7 * 4, r.predictions());
            // by hand: decode one token at a time (a different code path from the harness's batched prefill),
            // loss_i = mean of the window's L−1 cross-entropies, PPL = exp(Σ L·loss_i / (n·L))
            double nll = 0;
            for (int w = 0; w < 7; w++) {
                CausalLM.Session s = lm.newSession(ctx);
                double loss = 0;
                for (int j = 0; j < ctx - 1; j++) {
                    float[] logits = s.append(IDS, w * ctx + j, 1);
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (float v : logits) {
                        max = Math.max(max, v);
                    }
                    for (float v : logits) {
                        sum += Math.exp(v - max);
                    }
                    loss += max + Math.log(sum) - logits[IDS[w * ctx + j + 1]];
                }
                nll += loss / (ctx - 1) * ctx;
            }
            double want = Math.exp(nll / (7.0 * ctx));
            // prefill and decode round differently in float32: 1e-4 relative on a PPL of O(10..100)
            assertEquals(want, r.perplexity(), 1e-4 * want);
            assertTrue(Double.isNaN(r.klMean()), "no reference: no KL");
        }
    }

    @Test
    void aModelAgainstItselfHasZeroKlAndFullTopOneAgreement() throws IOException {
        var path = SharedModels.require("stories260K/stories260K.gguf");
        try (LoadedModel a = ModelLoader.open(path); LoadedModel b = ModelLoader.open(path)) {
            LmEval.Result r = LmEval.evaluate(a.requireLm(), b.requireLm(), IDS, 12);
            assertEquals(3, r.windows());
            // two loads, two sessions: logits agree to float32 rounding (parallel sums may split differently), so
            // KL is 0 up to ~1e-12 (a logit difference δ gives KL = O(δ²)); 1e-9 still catches any real change
            assertEquals(0, r.klMean(), 1e-9);
            assertEquals(0, r.kl99(), 1e-9);
            assertEquals(0, r.klMax(), 1e-9);
            assertEquals(1.0, r.top1());
            assertEquals(r.referencePerplexity(), r.perplexity(), 1e-6 * r.perplexity());
            assertTrue(r.perplexity() > 1, "a real model is not certain of every token: " + r.perplexity());
        }
    }

    @Test
    void badInputNamesTheProblem() throws IOException {
        try (LoadedModel m = ModelLoader.open(SharedModels.require("stories260K/stories260K.gguf"))) {
            var e = assertThrows(IllegalArgumentException.class, () -> LmEval.evaluate(m.requireLm(), null, IDS, 64));
            assertTrue(e.getMessage().contains("37 tokens, fewer than one window of 64"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> LmEval.evaluate(m.requireLm(), null, IDS, 1));
            assertTrue(e.getMessage().contains("window 1 must be in [2, "), e.getMessage());
        }
    }

    @Test
    void percentileInterpolatesBetweenOrderStatistics() {
        double[] v = {0, 1, 2, 3, 4};
        assertEquals(3.96, LmEval.percentile(v, 0.99), 1e-12);   // p = 0.99·4 = 3.96
        assertEquals(2.0, LmEval.percentile(v, 0.5), 1e-12);
        assertEquals(7.0, LmEval.percentile(new double[]{7}, 0.99), 0);
    }

    @Test
    void embeddingCosineAndRetrievalOverlapOfAnEncoderWithItself() throws IOException {
        var dir = SharedModels.require("hf-tiny-random/bert_tiniest");
        List<String> texts = List.of("the cat sat on the mat", "a dog ran in the park", "stocks fell sharply today",
                "the weather is cold", "she read a long book", "we ate rice and beans", "rain is expected tonight",
                "the team won the final", "my phone battery died", "birds sing in the morning", "open the window",
                "he plays the violin");
        try (EmbeddingModel a = EmbeddingModel.open(dir); EmbeddingModel b = EmbeddingModel.open(dir)) {
            EmbeddingEval.Result r = EmbeddingEval.compare(a.embed(texts), b.embed(texts));
            assertEquals(12, r.texts());
            assertEquals(10, r.k());
            assertEquals(1.0, r.minCos(), 1e-6);
            assertEquals(1.0, r.medianCos(), 1e-6);
            assertEquals(1.0, r.topKOverlap(), 0);
        }
    }

    @Test
    void embeddingEvalOnHandVectors() {
        List<float[]> m = List.of(new float[]{1, 0}, new float[]{0, 2}, new float[]{1, 1});
        List<float[]> ref = List.of(new float[]{1, 0}, new float[]{1, 0}, new float[]{2, 2});
        EmbeddingEval.Result r = EmbeddingEval.compare(m, ref);
        assertEquals(0.0, r.minCos(), 1e-12);      // (0,2)·(1,0) = 0
        assertEquals(1.0, r.medianCos(), 1e-12);
        assertEquals(2.0 / 3, r.meanCos(), 1e-12);
        assertEquals(2, r.k());
        assertEquals(1.0, r.topKOverlap(), 0);     // k = n − 1: every other text is a neighbour under both
        assertThrows(IllegalArgumentException.class, () -> EmbeddingEval.compare(m, ref.subList(0, 2)));
    }
}
