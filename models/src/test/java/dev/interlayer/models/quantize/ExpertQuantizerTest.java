package dev.interlayer.models.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.GgufTensorInfo;
import dev.interlayer.models.io.GgufType;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.LinearSite;
import dev.interlayer.quant.Aespa;
import dev.interlayer.quant.Calibration;
import dev.interlayer.quant.ClipSearch;
import dev.interlayer.quant.GptqOptions;
import dev.interlayer.quant.QuantScheme;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.quant.Rtn;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The calibrated quantizers on mixture-of-experts decoders (synth-mixtral-moe: 4 experts, top 2; synth-qwen2moe: 4
 * experts, top 2, and a gated shared expert) and on GPT-2's fused {@code attn_qkv} (synth-gpt2).
 *
 * <p>The per-expert Hessians are checked against an independent computation written here from the model's
 * definition: the layer's FFN input {@code u = RMSNorm(h)·g} from the residual {@code h} after attention (the
 * engine's block with every expert's (and the shared expert's) down projection zeroed returns exactly h), the
 * router's top-k of {@code W_r·u}, and {@code H_e = 2/N_e·Σ u uᵀ} over the tokens routed to e (down:
 * {@code v = silu(G_e u) ⊙ U_e u}), in double loops.
 */
class ExpertQuantizerTest {
    static final String MIXTRAL = "synthetic/synth-mixtral-moe-f32.gguf";
    static final String QWEN2MOE = "synthetic/synth-qwen2moe-f32.gguf";
    static final Pattern LINEAR = Pattern.compile(
            "blk\\.\\d+\\.(attn_(q|k|v|qkv|output)|ffn_(gate|up|down)(_exps|_shexp)?)\\.weight");

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {MIXTRAL, QWEN2MOE})
    void expertHessiansAreThoseOfTheTokensRoutedToEachExpert(String model) throws IOException {
        try (CalibratedModel m = CalibratedModel.open(model)) {
            GgufFile file = m.file();
            int win = 64;
            DecoderStack stack = SequentialQuantizer.stack(file, Map.of());
            float[] x0 = Calibration.decoderInput(stack, m.calib(), win, 64);
            int experts = file.tensor("blk.0.ffn_gate_exps.weight").dim(0);
            Map<Integer, ExpertQuantizer.Stats> in = ExpertQuantizer.statistics(SequentialQuantizer.block(file, Map.of(),
                    0), x0, win, LinearSite.FFN_IN, 0, experts);
            Map<Integer, ExpertQuantizer.Stats> down = ExpertQuantizer.statistics(SequentialQuantizer.block(file,
                    Map.of(), 0), x0, win, LinearSite.FFN_DOWN, 0, experts);
            Routed ref = Routed.of(file, 0, x0, win);
            long total = 0;
            for (int e = 0; e < experts; e++) {
                long n = ref.tokens(e);
                total += n;
                assertEquals(n, in.containsKey(e) ? in.get(e).tokens() : 0, model + " expert " + e + " tokens");
                if (n == 0) {
                    continue;
                }
                assertEquals(n, down.get(e).tokens(), model + " expert " + e + " down tokens");
                assertClose(ref.hessian(e, false), in.get(e).hessian(), model + " expert " + e + " H of gate/up");
                assertClose(ref.hessian(e, true), down.get(e).hessian(), model + " expert " + e + " H of down");
            }
            assertEquals(2L * m.calib().length, total, "top-2 routing: every token reaches two experts");
            // the experts' Hessians differ: a shared H (of all tokens) would make them equal
            assertNotEquals(in.get(0).hessian()[0], in.get(1).hessian()[0]);
        }
    }

    /**
     * GPTQ quantizes every linear of the MoE decoders, the routed experts' 3-D tensors and the shared expert
     * included (before: only q, k, v, o, 24,576 parameters); the GGUF holds them as Q4_1 blocks whose decoded
     * values are the quantizer's, it loads, and it stays close to the float model and closer than RTN.
     */
    @ParameterizedTest
    @ValueSource(strings = {MIXTRAL, QWEN2MOE})
    void gptqQuantizesEveryExpertIntoTheGguf(String model) throws IOException {
        try (CalibratedModel m = CalibratedModel.open(model)) {
            SequentialQuantizer.Result r = SequentialQuantizer.run(m.file(), m.calib(), 64,
                    options(SiteQuantizer.Method.GPTQ), s -> { });
            long quantized = 0, expected = 0;
            for (var q : r.quantized().values()) {
                quantized += (long) q.rows() * q.cols();
            }
            for (GgufTensorInfo t : m.file().tensorInfos()) {
                if (LINEAR.matcher(t.name()).matches() && t.shape().dim(-1) % 32 == 0) {
                    expected += t.elements();
                }
            }
            // mixtral: 2 × (4·64² attention-ish 12,288 + 3 × 4·128·64) = 221,184; qwen2moe: down_exps is 48 wide
            assertEquals(model.equals(MIXTRAL) ? 221_184 : 110_592, expected);
            assertEquals(expected, quantized, String.valueOf(r.quantized().keySet()));
            assertTrue(r.quantized().containsKey("blk.1.ffn_down_exps.weight") == model.equals(MIXTRAL));
            Path out = dir.resolve("gptq.gguf");
            QuantizedGguf.write(m.file(), out, r.quantized(), r.replacedF32(), "gptq");
            double gptq, rtn;
            try (GgufFile written = Gguf.open(out); LoadedModel q = ModelLoader.open(out)) {
                for (var e : r.quantized().entrySet()) {
                    assertEquals(GgufType.Q4_1, written.info(e.getKey()).type(), e.getKey());
                    assertArrayEquals(e.getValue().dequantize(), decode(written, e.getKey()), e.getKey());
                }
                gptq = LmEval.evaluate(q.requireLm(), m.f32().requireLm(), m.eval(), 64).klMean();
            }
            SequentialQuantizer.Result rr = SequentialQuantizer.run(m.file(), m.calib(), 64,
                    options(SiteQuantizer.Method.RTN), s -> { });
            rtn = LmEval.evaluate(MixedQuantizer.inMemory(m.file(), rr), m.f32().requireLm(), m.eval(), 64).klMean();
            // measured on these texts: mixtral GPTQ 0.27, RTN 0.42; qwen2moe 0.18, 0.32 (random weights: 4-bit
            // rounding moves these models' flat distributions a lot); the bound leaves room for float noise only
            assertTrue(gptq > 0 && gptq < 0.4, model + " GPTQ KLD " + gptq);
            assertTrue(gptq < 0.85 * rtn, model + " GPTQ KLD " + gptq + " vs RTN " + rtn);
        }
    }

    /**
     * With a calibration set too short to reach every expert, the experts without a token are rounded to nearest
     * (exactly RTN's codes), which ones is said in the report, and it is the set an independent routing of the
     * quantized layer's FFN input leaves empty; the experts with tokens are GPTQ's (not RTN's).
     */
    @Test
    void expertsWithoutCalibrationTokensAreRoundedToNearest() throws IOException {
        try (CalibratedModel m = CalibratedModel.open(MIXTRAL)) {
            int[] calib = Arrays.copyOf(m.calib(), 1);   // one token: top-2 leaves two of the four experts empty
            SiteQuantizer.Options opt = options(SiteQuantizer.Method.GPTQ);
            SequentialQuantizer.Result r = SequentialQuantizer.run(m.file(), calib, 64, opt, 0, s -> { });
            var report = r.layers().get(0).linears().stream().filter(l -> l.name().equals("blk.0.ffn_gate_exps.weight"))
                    .findFirst().orElseThrow();
            Matcher mt = Pattern.compile("experts \\[([0-9, ]+)] received no calibration token").matcher(report.note());
            assertTrue(mt.find(), report.note());
            TreeSet<Integer> fallback = new TreeSet<>();
            for (String s : mt.group(1).split(", ")) {
                fallback.add(Integer.parseInt(s));
            }
            // the quantized attention of layer 0, then the routing computed here
            Map<String, Tensor> attn = new HashMap<>(MixedQuantizer.dequantized(m.file(), r.quantized()));
            attn.keySet().removeIf(k -> !k.startsWith("blk.0.attn"));
            float[] x0 = Calibration.decoderInput(SequentialQuantizer.stack(m.file(), Map.of()), calib, 64, 64);
            Routed ref = Routed.of(m.file(), attn, 0, x0, 64);
            TreeSet<Integer> empty = new TreeSet<>();
            for (int e = 0; e < 4; e++) {
                if (ref.tokens(e) == 0) {
                    empty.add(e);
                }
            }
            assertEquals(empty, fallback);
            assertFalse(fallback.isEmpty());
            for (String t : List.of("ffn_gate_exps", "ffn_up_exps", "ffn_down_exps")) {
                String name = "blk.0." + t + ".weight";
                QuantizedLinear q = r.quantized().get(name);
                int rows = q.rows() / 4, cols = q.cols();
                float[] w = m.file().tensor(name).toF32().toFloatArray();
                for (int e = 0; e < 4; e++) {
                    QuantizedLinear rtn = Rtn.quantize(Arrays.copyOfRange(w, e * rows * cols, (e + 1) * rows * cols),
                            rows, cols, opt.scheme());
                    QuantizedLinear got = q.rowRange(e * rows, (e + 1) * rows);
                    if (fallback.contains(e)) {
                        assertEquals(rtn, got, name + " expert " + e);
                    } else {
                        assertNotEquals(rtn, got, name + " expert " + e + " has tokens: GPTQ, not RTN");
                    }
                }
            }
        }
    }

    /**
     * GPT-2's fused {@code attn_qkv [3d, d]} is quantized by every calibrated method (GPTQ on the shared input's H;
     * BoA and aespa on its q, k, v row blocks with per-head row factors, FusedQkvTest; AWQ without input scales, the
     * LayerNorm has a bias), written to the GGUF and run within a KLD bound (before: attn_qkv stayed F32).
     */
    @Test
    void gpt2FusedQkvIsQuantizedByTheCalibratedMethods() throws IOException {
        try (CalibratedModel m = CalibratedModel.open("synthetic/synth-gpt2-f32.gguf")) {
            double rtn = LmEval.evaluate(MixedQuantizer.inMemory(m.file(), SequentialQuantizer.run(m.file(), m.calib(),
                    64, options(SiteQuantizer.Method.RTN), s -> { })), m.f32().requireLm(), m.eval(), 64).klMean();
            for (SiteQuantizer.Method method : List.of(SiteQuantizer.Method.GPTQ, SiteQuantizer.Method.BOA,
                    SiteQuantizer.Method.AESPA, SiteQuantizer.Method.AWQ)) {
                SequentialQuantizer.Result r = SequentialQuantizer.run(m.file(), m.calib(), 64, options(method),
                        s -> { });
                for (int l = 0; l < 2; l++) {
                    assertTrue(r.quantized().containsKey("blk." + l + ".attn_qkv.weight"), method + " "
                            + r.quantized().keySet());
                }
                long params = r.quantized().values().stream().mapToLong(q -> (long) q.rows() * q.cols()).sum();
                assertEquals(2 * (192 * 64 + 64 * 64 + 256 * 64 + 64 * 256), params, method.toString());
                Path out = dir.resolve(method + ".gguf");
                QuantizedGguf.write(m.file(), out, r.quantized(), r.replacedF32(), method.name());
                try (LoadedModel q = ModelLoader.open(out)) {
                    double kld = LmEval.evaluate(q.requireLm(), m.f32().requireLm(), m.eval(), 64).klMean();
                    // synth-gpt2's random attention is sensitive to 4-bit q/k (with attn_qkv in float GPTQ gave 0.09
                    // on bench/quant/heldout.txt, with it 0.49; RTN 0.71). Measured here: RTN 0.63, GPTQ 0.59,
                    // BoA 0.78 (its per-row form on an asymmetric grid), so: every method under 1 nat, GPTQ
                    // (the shared input's full H) under RTN
                    assertTrue(kld > 0 && kld < 1, method + " KLD " + kld + ", RTN " + rtn);
                    assertTrue(method != SiteQuantizer.Method.GPTQ || kld < rtn, "GPTQ KLD " + kld + ", RTN " + rtn);
                }
            }
        }
    }

    static SiteQuantizer.Options options(SiteQuantizer.Method m) {
        QuantScheme s = GgmlBlocks.scheme(4, 32, false, m == SiteQuantizer.Method.RTN ? ClipSearch.NONE : ClipSearch.MSE);
        return new SiteQuantizer.Options(m, s, GptqOptions.DEFAULT.withActOrder(true).withStaticGroups(true),
                Aespa.Options.QKV.withIterations(20), true);
    }

    // the values of a quantized tensor (any rank), decoded row by row from the file's blocks
    static float[] decode(GgufFile f, String name) {
        var info = f.info(name);
        int cols = info.shape().dim(-1);
        int rows = (int) (info.elements() / cols);
        var fmt = dev.interlayer.tensor.quant.BlockFormats.of(info.type().dtype());
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            fmt.dequantizeRow(f.rawData(name), r * fmt.rowBytes(cols), cols, out, r * cols);
        }
        return out;
    }

    static void assertClose(double[] want, double[] got, String what) {
        double max = 0, diff = 0;
        for (int i = 0; i < want.length; i++) {
            max = Math.max(max, Math.abs(want[i]));
            diff = Math.max(diff, Math.abs(want[i] - got[i]));
        }
        // the engine's rows are float32 (its RMSNorm, products and SiLU): ~1e-7 relative; accumulation is in double
        assertTrue(max > 0 && diff <= 1e-5 * max, what + ": max |ΔH| " + diff + " of max |H| " + max);
    }

    /** Layer l's FFN inputs and routing, computed here. */
    record Routed(int d, int experts, List<double[]> u, List<int[]> chosen, GgufFile file, int layer) {
        static Routed of(GgufFile file, int l, float[] x, int win) throws IOException {
            return of(file, Map.of(), l, x, win);
        }

        static Routed of(GgufFile file, Map<String, Tensor> replaced, int l, float[] x, int win) throws IOException {
            String p = "blk." + l + ".";
            Map<String, Tensor> zero = new HashMap<>(replaced);
            for (String t : List.of("ffn_down_exps", "ffn_down_shexp")) {
                if (file.contains(p + t + ".weight")) {
                    zero.put(p + t + ".weight", Tensor.zeros(file.info(p + t + ".weight").shape()));
                }
            }
            float[] h = x.clone();                  // the residual after attention: the block with zero experts
            Calibration.decoderBlocks(SequentialQuantizer.block(file, zero, l), h, win, 64, null, true);
            float[] g = file.tensor(p + "ffn_norm.weight").toFloatArray();
            float[] router = file.tensor(p + "ffn_gate_inp.weight").toFloatArray();
            int d = g.length, experts = router.length / d, k = file.getInt(file.architecture() + ".expert_used_count", -1);
            double eps = ((Number) file.get(file.architecture() + ".attention.layer_norm_rms_epsilon")).doubleValue();
            List<double[]> u = new ArrayList<>();
            List<int[]> chosen = new ArrayList<>();
            for (int t = 0; t < h.length / d; t++) {
                double ss = 0;
                for (int j = 0; j < d; j++) {
                    ss += (double) h[t * d + j] * h[t * d + j];
                }
                double inv = 1 / Math.sqrt(ss / d + eps);
                double[] ut = new double[d];
                for (int j = 0; j < d; j++) {
                    ut[j] = h[t * d + j] * inv * g[j];
                }
                double[] logit = new double[experts];
                for (int e = 0; e < experts; e++) {
                    for (int j = 0; j < d; j++) {
                        logit[e] += router[e * d + j] * ut[j];
                    }
                }
                Integer[] order = new Integer[experts];
                for (int e = 0; e < experts; e++) {
                    order[e] = e;
                }
                Arrays.sort(order, (a, b) -> Double.compare(logit[b], logit[a]));
                int[] top = new int[k];
                for (int i = 0; i < k; i++) {
                    top[i] = order[i];
                }
                u.add(ut);
                chosen.add(top);
            }
            return new Routed(d, experts, u, chosen, file, l);
        }

        long tokens(int e) {
            return chosen.stream().filter(c -> Arrays.stream(c).anyMatch(x -> x == e)).count();
        }

        /** H_e = 2/N_e·Σ v vᵀ over the tokens routed to e: v = u (gate/up), or silu(G_e u) ⊙ U_e u (down). */
        double[] hessian(int e, boolean down) {
            String p = "blk." + layer + ".";
            float[] gate = file.tensor(p + "ffn_gate_exps.weight").toFloatArray();
            float[] up = file.tensor(p + "ffn_up_exps.weight").toFloatArray();
            int ff = file.tensor(p + "ffn_gate_exps.weight").dim(1), n = down ? ff : d;
            double[] hs = new double[n * n];
            long count = 0;
            for (int t = 0; t < u.size(); t++) {
                int tt = t;
                if (Arrays.stream(chosen.get(t)).noneMatch(x -> x == e)) {
                    continue;
                }
                double[] v = u.get(tt);
                if (down) {
                    v = new double[ff];
                    for (int i = 0; i < ff; i++) {
                        double a = 0, b = 0;
                        for (int j = 0; j < d; j++) {
                            a += gate[(e * ff + i) * d + j] * u.get(tt)[j];
                            b += up[(e * ff + i) * d + j] * u.get(tt)[j];
                        }
                        v[i] = a / (1 + Math.exp(-a)) * b;
                    }
                }
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        hs[i * n + j] += v[i] * v[j];
                    }
                }
                count++;
            }
            for (int i = 0; i < hs.length; i++) {
                hs[i] *= 2.0 / count;
            }
            return hs;
        }
    }
}
