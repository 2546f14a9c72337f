package dev.interlayer.models.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.LinearSite;
import dev.interlayer.quant.Awq;
import dev.interlayer.quant.Calibration;
import dev.interlayer.quant.GridKind;
import dev.interlayer.quant.QuantScheme;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.quant.Rtn;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The engine side of AWQ's block objective on synth-llama-256 (8 query heads on 2 kv heads, SwiGLU): the loss of a
 * candidate grows as the rounding gets coarser (8 → 4 → 2 bits) for both sites (q/k/v through the attention block,
 * gate/up through the MLP); a candidate whose scaled weights round to the same function at any scale (8 bits with
 * random s, which {@link Awq#unscaled} divides back out) costs about what scale 1 does; with no quantized linears
 * before the site and the float model's states as its own, the two references (llm-awq's: this layer with float
 * site weights; error propagation's: the float layer) agree to float32 rounding; other sites have no block objective. The
 * search itself and {@link Awq#outputError} are checked against PyTorch in quant's AwqBlockTest.
 */
class AwqBlockObjectiveTest {
    @Test
    void lossFollowsTheRounding() throws IOException {
        try (GgufFile file = Gguf.open(SharedModels.require("synthetic/synth-llama-256-f32.gguf"))) {
            DecoderStack stack = SequentialQuantizer.stack(file, Map.of());
            int win = Math.min(32, stack.contextLength()), n = stack.blocks().size();
            int[] tokens = new int[64];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = (5 + 31 * i) % 200;
            }
            float[] x = Calibration.decoderInput(stack, tokens, win, 16);
            AttentionConfig ac = stack.blocks().get(0).config().attention();
            for (LinearSite site : List.of(LinearSite.ATTN_QKV, LinearSite.FFN_IN)) {
                List<SiteQuantizer.Linear> lin = SequentialQuantizer.linears(file, 0, n, site, ac, 32, new ArrayList<>(),
                        line -> { });
                int dIn = lin.get(0).cols();
                AwqBlockObjective layer = AwqBlockObjective.of(file, Map.of(), 0, site, lin, x, null, win);
                AwqBlockObjective flt = AwqBlockObjective.of(file, Map.of(), 0, site, lin, x, x.clone(), win);
                assertNotNull(layer, site.toString());
                double[] one = new double[dIn], rnd = new double[dIn];
                var r = new SplittableRandom(3);
                for (int j = 0; j < dIn; j++) {
                    one[j] = 1;
                    rnd[j] = Math.exp(r.nextDouble(-1, 1));
                }
                double prev = -1;
                for (int bits : new int[] {8, 4, 2}) {
                    double loss = layer.loss(one, quantize(lin, one, bits));
                    assertTrue(loss > prev, site + " " + bits + " bits: " + loss + " not above " + prev);
                    // the float layer reads the file's weights, llm-awq's reference the same values as replaced tensors:
                    // two kernel paths (summation orders) in float32, so ~1e-7 relative apart, not equal
                    assertEquals(loss, flt.loss(one, quantize(lin, one, bits)), 1e-5 * loss, site + " " + bits
                            + " bits: references");
                    prev = loss;
                }
                double at8 = layer.loss(one, quantize(lin, one, 8)), scaled8 = layer.loss(rnd, quantize(lin, rnd, 8));
                double at4 = layer.loss(one, quantize(lin, one, 4));
                // both 8-bit candidates are ~256× finer than 4 bits: their losses are far below the 4-bit one
                assertTrue(scaled8 < at4 / 10 && at8 < at4 / 10, site + ": 8 bits " + at8 + ", scaled " + scaled8
                        + ", 4 bits " + at4);
            }
            assertNull(AwqBlockObjective.of(file, Map.of(), 0, LinearSite.ATTN_OUTPUT, List.of(), x, null, win));
        }
    }

    private static List<QuantizedLinear> quantize(List<SiteQuantizer.Linear> lin, double[] s, int bits) {
        QuantScheme scheme = QuantScheme.of(GridKind.ASYM_OFFSET, bits, 32);
        List<QuantizedLinear> out = new ArrayList<>();
        for (SiteQuantizer.Linear l : lin) {
            out.add(Rtn.quantize(Awq.scaleColumns(l.w(), l.rows(), l.cols(), s), l.rows(), l.cols(), scheme));
        }
        return out;
    }
}
