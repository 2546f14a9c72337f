package dev.interlayer.models.quantize;

import dev.interlayer.models.bert.BertModel;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.EncoderStack;
import dev.interlayer.nn.LinearSite;
import dev.interlayer.quant.Awq;
import dev.interlayer.quant.Calibration;
import dev.interlayer.quant.CalibrationStats;
import dev.interlayer.quant.CalibrationTap;
import dev.interlayer.quant.QuantizedLinear;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Quantizes the block linears of a BERT-family GGUF encoder with GPTQ's sequential protocol (Frantar et al.,
 * "GPTQ", ICLR 2023: block by block on the outputs of the already quantized blocks, "true sequential" within a
 * block): the calibration sequences' block-0 inputs x₀ = LN(E + P + S₀) are computed once; for layer ℓ and each of
 * its input sites in turn (attention input → q, k, v; attention output; FFN input → up; FFN hidden → down) the
 * cached inputs of block ℓ are run through block ℓ alone, whose earlier linears already hold their dequantized
 * values, and the site's statistics (H = 2XᵀX/N, mean |x|) are taken from that pass; after the block's last site
 * its outputs become block ℓ + 1's inputs. Each sequence runs alone in the statistics passes, so no padding row
 * enters a statistic; the output pass, which needs no statistics, runs the sequences packed back to back
 * (attention within each), as large products. Cost: five passes of one block per layer; with {@code onePass} two
 * (all sites' statistics from one pass of the block with its float weights, as GPTQ without its "true
 * sequential" option, then the output pass).
 *
 * <p>AWQ searches input scales where a weight can absorb 1/s exactly ({@link AwqFolding}): the attention output's
 * input is {@code Σ_t p_ht·v_t}, linear in V, so o's scales fold into v's rows and bias (as on decoders). The other
 * sites get scale 1 (AWQ's activation-aware clipping search only): q/k/v and up read a LayerNorm output that is also
 * the residual stream, and down reads GELU(up), not linear in any weight. BoA and aespa weigh query and key heads
 * with {@link HeadFactors} (no RoPE).
 */
public final class EncoderQuantizer {
    private EncoderQuantizer() {
    }

    /**
     * Runs the protocol on the BERT GGUF {@code file} with calibration sequences {@code calib} (token ids with
     * their special tokens, each at most the model's positions). RTN may run without calibration ({@code calib}
     * null; its error is then the relative weight error).
     *
     * @param onePass one calibration pass per block for all its sites (faster, sites not fitted to the quantized
     *                earlier sites of the same block)
     * @throws IllegalArgumentException if the calibration set is empty, or missing for a calibrated method
     */
    public static SequentialQuantizer.Result run(GgufFile file, List<int[]> calib, SiteQuantizer.Options opt,
                                                 boolean onePass, Consumer<String> progress) throws IOException {
        if (calib == null ? opt.method() != SiteQuantizer.Method.RTN : calib.isEmpty()) {
            throw new IllegalArgumentException("quantize: " + opt.method() + " needs calibration sequences");
        }
        Map<String, QuantizedLinear> quantized = new LinkedHashMap<>();
        Map<String, Tensor> replaced = new LinkedHashMap<>();
        Map<String, Tensor> changed = new LinkedHashMap<>();    // non-linear tensors changed (AWQ's v biases)
        List<SequentialQuantizer.LayerReport> layers = new ArrayList<>();
        EncoderStack stack0 = BertModel.load(file, file).stack();
        int n = stack0.layers();
        List<Tensor> xs = new ArrayList<>();
        long tokens = 0;
        if (calib != null) {
            for (int[] seq : calib) {
                xs.add(Calibration.encoderInput(stack0, seq));
                tokens += seq.length;
            }
        }
        boolean attentionAware = opt.method() == SiteQuantizer.Method.BOA || opt.method() == SiteQuantizer.Method.AESPA;
        SiteQuantizer.Options so = new SiteQuantizer.Options(opt.method(), opt.scheme(), opt.gptq(), opt.aespa(), false,
                SiteQuantizer.AwqObjective.LINEAR, false, opt.awqGroup(), opt.rtnWeighted(), opt.awqTwoSidedClip());
        for (int l = 0; l < n; l++) {
            long t0 = System.nanoTime(), calibNanos = 0;
            AttentionConfig ac = stack0.blocks().get(l).config().attention();
            List<SequentialQuantizer.LinearReport> reports = new ArrayList<>();
            CalibrationStats shared = null;
            HeadFactors sharedHf = null;
            if (calib != null && onePass) {
                long s0 = System.nanoTime();
                List<SiteQuantizer.Linear> qkv = SequentialQuantizer.linears(file, l, n, LinearSite.ATTN_QKV, ac,
                        opt.scheme().groupSize(), new ArrayList<>(), s -> { });
                sharedHf = attentionAware && !qkv.isEmpty()
                        ? SequentialQuantizer.headFactors(ac, qkv, qkv.get(0).cols(), ac.contextLength()) : null;
                shared = statistics(block(file, replaced, l), xs, null, sharedHf);
                calibNanos += System.nanoTime() - s0;
            }
            for (LinearSite site : LinearSite.values()) {
                List<SiteQuantizer.Linear> linears = SequentialQuantizer.linears(file, l, n, site, ac,
                        opt.scheme().groupSize(), reports, progress);
                if (linears.isEmpty()) {
                    continue;
                }
                long s0 = System.nanoTime();
                int dIn = linears.get(0).cols();
                double[] h = null, meanAbs = null;         // RTN without calibration reads neither
                HeadFactors hf = null;
                if (calib != null) {
                    String key = CalibrationTap.name(0, site, -1);     // block l runs as block 0 of a one-block stack
                    CalibrationStats stats = shared;
                    hf = site == LinearSite.ATTN_QKV ? sharedHf : null;
                    if (stats == null) {
                        hf = site == LinearSite.ATTN_QKV && attentionAware
                                ? SequentialQuantizer.headFactors(ac, linears, dIn, ac.contextLength()) : null;
                        stats = statistics(block(file, replaced, l), xs, key, hf);
                    }
                    h = stats.hessian(key).hessian();
                    meanAbs = stats.activations().get(key).meanAbs();
                }
                long c1 = System.nanoTime();
                calibNanos += c1 - s0;
                AwqFolding fold = opt.method().awq() && calib != null ? AwqFolding.of(file, l, site, ac, dIn) : null;
                SiteQuantizer.Result r = SiteQuantizer.quantize(linears, dIn, h,
                        fold == null ? meanAbs : fold.statistic(meanAbs), SequentialQuantizer.rowFactors(linears, hf),
                        so.withAwqScales(fold != null), null, fold == null ? null : fold.tie());
                double[] s = r.inputScales();
                if (s != null && fold != null) {
                    fold.apply(s, file, quantized, replaced, changed);
                }
                double secs = (System.nanoTime() - c1) / 1e9 / linears.size();
                SequentialQuantizer.record(l, n, linears, r, s == null ? h : Awq.scaledHessian(h, s), secs, quantized,
                        replaced, reports, progress);
            }
            if (calib != null && l + 1 < n) {
                long s0 = System.nanoTime();
                List<Tensor> next = Calibration.encoderBlocks(block(file, replaced, l), xs);   // packed: no taps needed
                xs.clear();
                xs.addAll(next);
                calibNanos += System.nanoTime() - s0;
            }
            String prefix = "blk." + l + ".";   // later passes start from the cached outputs: drop block l's floats
            replaced.keySet().removeIf(k -> k.startsWith(prefix));
            layers.add(new SequentialQuantizer.LayerReport(l, (System.nanoTime() - t0) / 1e9, calibNanos / 1e9, reports));
        }
        return new SequentialQuantizer.Result(quantized, changed, layers, (int) Math.min(Integer.MAX_VALUE, tokens));
    }

    // statistics of site key (null: every site) over the cached inputs; attention inputs also go to hf
    private static CalibrationStats statistics(EncoderStack block, List<Tensor> xs, String key, HeadFactors hf) {
        CalibrationStats stats = new CalibrationStats(true);
        String qkv = CalibrationTap.name(0, LinearSite.ATTN_QKV, -1);
        for (Tensor x : xs) {
            Calibration.encoderBlocks(block, x, (name, rows, m, d, keep) -> {
                if (key == null || name.equals(key)) {
                    stats.accept(name, rows, m, d, keep);
                    if (hf != null && name.equals(qkv)) {
                        hf.accept(rows, m);
                    }
                }
            });
        }
        return stats;
    }

    // block l of the encoder with the replaced weights, alone in a stack of blocks only
    private static EncoderStack block(GgufFile file, Map<String, Tensor> replaced, int l) throws IOException {
        BertModel m = BertModel.load(file, replaced.isEmpty() ? file : new ReplacedWeights(file, replaced));
        return new EncoderStack(null, null, null, List.of(m.stack().blocks().get(l)), null);
    }
}
