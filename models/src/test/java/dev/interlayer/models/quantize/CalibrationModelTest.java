package dev.interlayer.models.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.bert.BertModel;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.EncoderStack;
import dev.interlayer.nn.LinearSite;
import dev.interlayer.nn.RmsNorm;
import dev.interlayer.nn.StackSession;
import dev.interlayer.quant.Calibration;
import dev.interlayer.quant.CalibrationStats;
import dev.interlayer.quant.CalibrationTap;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Calibration on real models: the Hessian the driver accumulates for a linear's input equals
 * H = 2XᵀX/N computed here in float64 from hidden states captured independently (the embedding table and the
 * session's residual-stream taps, normalised by hand). Tolerance: 1e-5 · max|H| — both sides see the same
 * float32 activations, up to the float32 rounding of the norm computed here in double.
 */
class CalibrationModelTest {
    private static final int[] TOKENS = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426,
            338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433};

    @Test
    void stories260KHessiansEqualTwoXtXOverNOfTheNormedResidualStream() throws IOException {
        try (LoadedModel m = ModelLoader.open(SharedModels.require("stories260K/stories260K.gguf"))) {
            DecoderStack stack = ((DecoderLM) m.lm()).stack();
            CalibrationStats stats = new CalibrationStats(true);
            int window = 12;   // windows [0,12), [12,24), [24,31): fresh context each
            Calibration.decoder(stack, TOKENS, window, 5, stats);
            int d = stack.blocks().get(0).config().hidden();
            // layer 0 from the embedding table alone: X = RMSNorm(E[token])
            double[][] x0 = new double[TOKENS.length][];
            for (int i = 0; i < TOKENS.length; i++) {
                x0[i] = rmsNorm(stack.embedding().table().select(0, TOKENS[i]).toFloatArray(),
                        (RmsNorm) stack.blocks().get(0).attnIn());
            }
            assertHessian(x0, stats.hessian("blk.0.attn_qkv").hessian(), "blk.0.attn_qkv");
            assertEquals(TOKENS.length, stats.hessian("blk.0.attn_qkv").count());
            // every layer from the session's residual taps, windowed the same way
            for (int l = 0; l < stack.layers(); l++) {
                double[][] x = new double[TOKENS.length][];
                for (int w = 0; w < TOKENS.length; w += window) {
                    int n = Math.min(window, TOKENS.length - w);
                    StackSession s = stack.newSession(window, window, true);
                    stack.forward(Arrays.copyOfRange(TOKENS, w, w + n), s);
                    float[] tap = s.tap(l).toFloatArray();
                    for (int i = 0; i < n; i++) {
                        x[w + i] = rmsNorm(Arrays.copyOfRange(tap, i * d, (i + 1) * d),
                                (RmsNorm) stack.blocks().get(l).attnIn());
                    }
                }
                assertHessian(x, stats.hessian("blk." + l + ".attn_qkv").hessian(), "blk." + l + ".attn_qkv");
            }
            for (String site : List.of("attn_output", "ffn_up", "ffn_down")) {
                assertEquals(TOKENS.length, stats.hessian("blk.0." + site).count(), site);
            }
            int f = stack.blocks().get(0).ffn() instanceof dev.interlayer.nn.GatedMlp g ? g.intermediate() : -1;
            assertEquals(f, stats.hessian("blk.0.ffn_down").dIn());
        }
    }

    @Test
    void bertHessiansExcludePaddingAndEqualTwoXtXOverN() throws IOException {
        try (LoadedModel m = ModelLoader.open(SharedModels.require("hf-tiny-random/bert_tiniest"))) {
            EncoderStack stack = ((BertModel) m.hidden()).stack();
            int[] sentence = {101, 7592, 2088, 2003, 1037, 3231, 102};
            CalibrationStats plain = new CalibrationStats(true);
            Calibration.encoder(stack, List.of(sentence), plain);
            int[] padded = Arrays.copyOf(sentence, sentence.length + 5);   // [PAD] = 0
            boolean[] valid = new boolean[padded.length];
            Arrays.fill(valid, 0, sentence.length, true);
            CalibrationStats masked = new CalibrationStats(true);
            Calibration.encoder(stack, padded, valid, masked);
            for (String key : plain.activations().keySet()) {
                assertEquals(sentence.length, masked.hessian(key).count(), key + ": padding rows counted");
                double[] a = plain.hessian(key).hessian(), b = masked.hessian(key).hessian();
                assertClose(a, b, key + " padded vs unpadded");
            }
            // Post-LN BERT: attention reads the residual stream itself, tap 0 = LayerNorm(E + P + S[0])
            StackSession s = stack.newSession(sentence.length, true);
            Tensor x0 = stack.embedding().lookup(sentence, Tensor.zeros(sentence.length, stack.hidden()));
            dev.interlayer.tensor.Ops.add(x0, stack.tokenTypes().table().select(0, 0), x0);
            stack.forwardEmbeddings(x0, null, s);
            float[] tap = s.tap(0).toFloatArray();
            int d = stack.hidden();
            double[][] x = new double[sentence.length][d];
            for (int i = 0; i < sentence.length; i++) {
                for (int c = 0; c < d; c++) {
                    x[i][c] = tap[i * d + c];
                }
            }
            assertHessian(x, plain.hessian("blk.0.attn_qkv").hessian(), "bert blk.0.attn_qkv");
        }
    }

    /**
     * The block-at-a-time protocol of {@link SequentialQuantizer} (x₀ from {@link Calibration#decoderInput}, then
     * each block alone on the cached x, updated in place) sees the same inputs as the whole stack: every layer's
     * Hessians equal those of one {@link Calibration#decoder} pass, and x after layer ℓ equals the residual tap
     * ℓ + 1. Same kernels on the same float32 rows, but chunks are cut at the same places only by construction,
     * so the check allows float32 reordering: 1e-5 · max|H| (as above) and 1e-5 · max|x| for the hidden states.
     */
    @Test
    void stories260KBlockAtATimeEqualsTheWholeStack() throws IOException {
        try (LoadedModel m = ModelLoader.open(SharedModels.require("stories260K/stories260K.gguf"))) {
            DecoderStack stack = ((DecoderLM) m.lm()).stack();
            int window = 12, chunk = 5, d = stack.blocks().get(0).config().hidden();
            CalibrationStats whole = new CalibrationStats(true);
            Calibration.decoder(stack, TOKENS, window, chunk, whole);
            float[] x = Calibration.decoderInput(stack, TOKENS, window, chunk);
            for (int l = 0; l < stack.layers(); l++) {
                CalibrationStats one = new CalibrationStats(true);
                DecoderStack block = new DecoderStack(null, null, null, List.of(stack.blocks().get(l)), null);
                Calibration.decoderBlocks(block, x, window, chunk, one, true);
                for (LinearSite site : LinearSite.values()) {
                    double[] want = whole.hessian(CalibrationTap.name(l, site, -1)).hessian();
                    assertClose(want, one.hessian(CalibrationTap.name(0, site, -1)).hessian(), "layer " + l + " " + site);
                }
                // x now enters layer l + 1: the whole stack's residual tap l + 1, window by window
                double max = 0, diff = 0;
                for (int w = 0; w < TOKENS.length; w += window) {
                    int n = Math.min(window, TOKENS.length - w);
                    StackSession s = stack.newSession(window, window, true);
                    stack.forward(Arrays.copyOfRange(TOKENS, w, w + n), s);
                    float[] tap = s.tap(l + 1).toFloatArray();
                    for (int i = 0; i < n * d; i++) {
                        max = Math.max(max, Math.abs(tap[i]));
                        diff = Math.max(diff, Math.abs(tap[i] - x[w * d + i]));
                    }
                }
                assertTrue(max > 0 && diff <= 1e-5 * max, "layer " + l + " output: max diff " + diff + " of " + max);
            }
        }
    }

    private static double[] rmsNorm(float[] v, RmsNorm n) {
        double ss = 0;
        for (float f : v) {
            ss += (double) f * f;
        }
        double r = 1 / Math.sqrt(ss / v.length + n.eps());
        float[] w = n.weight().toFloatArray();
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] * r * (n.onePlusWeight() ? 1 + w[i] : w[i]);
        }
        return out;
    }

    private static void assertHessian(double[][] x, double[] h, String what) {
        int d = x[0].length;
        double[] want = new double[d * d];
        for (double[] row : x) {
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    want[i * d + j] += 2 * row[i] * row[j] / x.length;
                }
            }
        }
        assertClose(want, h, what);
    }

    private static void assertClose(double[] want, double[] got, String what) {
        assertEquals(want.length, got.length, what);
        double scale = 0, diff = 0;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            diff = Math.max(diff, Math.abs(want[i] - got[i]));
        }
        assertTrue(scale > 0, what + ": empty Hessian");
        assertTrue(diff <= 1e-5 * scale, what + ": max |ΔH| " + diff + " > 1e-5 · " + scale);
    }
}
