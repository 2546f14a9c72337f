package dev.interlayer.models.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.interlayer.models.io.GgufFile;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.LinearSite;
import dev.interlayer.quant.Calibration;
import dev.interlayer.quant.CalibrationStats;
import dev.interlayer.quant.CalibrationTap;
import dev.interlayer.quant.QuantizedLinear;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * BoA and aespa on GPT-2's fused {@code attn_qkv [3d, d]} (synth-gpt2, 4 heads of 16): the sequential quantizer
 * gives exactly the integers (codes, scales, zeros) of the unfused path, i.e. separate q, k and v projections
 * (the fused weight's row thirds, copied here) with their per-head row factors from {@link HeadFactors} on layer 0's
 * attention input, quantized by {@link SiteQuantizer} and stacked back. Exact: both paths run the same arithmetic
 * on the same numbers (the Hessian and the factors come from the same float32 rows in the same order). And the
 * factors matter: the layer-wise form (identity row factors, the behaviour before) gives other q or k codes.
 */
class FusedQkvTest {
    @ParameterizedTest
    @EnumSource(value = SiteQuantizer.Method.class, names = {"BOA", "AESPA"})
    void fusedQkvGivesTheIntegersOfSeparateProjections(SiteQuantizer.Method method) throws IOException {
        try (CalibratedModel m = CalibratedModel.open("synthetic/synth-gpt2-f32.gguf")) {
            GgufFile file = m.file();
            SiteQuantizer.Options opt = ExpertQuantizerTest.options(method);
            SequentialQuantizer.Result r = SequentialQuantizer.run(file, m.calib(), 64, opt, 0, s -> { });
            QuantizedLinear fused = r.quantized().get("blk.0.attn_qkv.weight");

            // the unfused path: q, k, v as three projections of layer 0
            AttentionConfig ac = SequentialQuantizer.stack(file, Map.of()).blocks().get(0).config().attention();
            int d = 64, hd = ac.headDim();
            float[] w = file.tensor("blk.0.attn_qkv.weight").toF32().toFloatArray();
            List<SiteQuantizer.Linear> separate = new ArrayList<>();
            String[] names = {"attn_q", "attn_k", "attn_v"};
            int[] heads = {ac.heads(), ac.kvHeads(), ac.kvHeads()};
            int r0 = 0;
            for (int i = 0; i < 3; i++) {
                int rows = heads[i] * hd;
                separate.add(new SiteQuantizer.Linear("blk.0." + names[i] + ".weight",
                        Arrays.copyOfRange(w, r0 * d, (r0 + rows) * d), rows, d, heads[i]));
                r0 += rows;
            }
            HeadFactors hf = SequentialQuantizer.headFactors(ac, separate, d, 64);
            String key = CalibrationTap.name(0, LinearSite.ATTN_QKV, -1);
            CalibrationStats stats = new CalibrationStats(true);
            float[] x0 = Calibration.decoderInput(SequentialQuantizer.stack(file, Map.of()), m.calib(), 64, 64);
            Calibration.decoderBlocks(SequentialQuantizer.block(file, Map.of(), 0), x0, 64, 64, (name, rows, n, dIn, keep) -> {
                if (name.equals(key)) {
                    stats.accept(name, rows, n, dIn, keep);
                    hf.accept(rows, n);
                }
            }, false);
            double[] h = stats.hessian(key).hessian(), meanAbs = stats.activations().get(key).meanAbs();
            List<QuantizedLinear> parts = SiteQuantizer.quantize(separate, d, h, meanAbs,
                    SequentialQuantizer.rowFactors(separate, hf), opt).weights();
            r0 = 0;
            for (int i = 0; i < 3; i++) {
                int rows = separate.get(i).rows();
                assertEquals(parts.get(i), fused.rowRange(r0, r0 + rows), method + " " + names[i]);
                r0 += rows;
            }
            List<double[][]> none = new ArrayList<>(java.util.Collections.nCopies(3, (double[][]) null));
            List<QuantizedLinear> layerWise = SiteQuantizer.quantize(separate, d, h, meanAbs, none, opt).weights();
            assertNotEquals(QuantizedLinear.stackRows(layerWise), fused, method + ": the row factors changed nothing");
        }
    }
}
