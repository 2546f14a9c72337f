package dev.interlayer.models.quantize;

import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.generate.Sampler.Greedy;
import dev.interlayer.nn.readout.LogSoftmax;
import java.util.Arrays;

/**
 * Language-model quality on one token sequence, with the GPTQ perplexity protocol (Frantar et al., "GPTQ",
 * ICLR 2023): the ids are cut into n = ⌊len/L⌋ non-overlapping windows of L tokens (tail dropped), each run
 * with a fresh context; window i's loss is the mean cross-entropy of its L − 1 next-token predictions and
 * <pre>  PPL = exp( Σ_i L·loss_i / (n·L) ) = exp(mean_i loss_i)</pre>
 * Against a reference model (the unquantized one) on the same windows, per prediction:
 * <pre>  KL(p_ref ‖ p) = Σ_v p_ref(v) · (log p_ref(v) − log p(v))</pre>
 * reported as mean, 99th percentile (linear interpolation between order statistics, as llama.cpp's
 * {@code perplexity --kl-divergence} does) and maximum, plus top-1 agreement: the fraction of predictions
 * whose argmax token is the same. Unlike llama.cpp, which scores only the second half of each window, every
 * prediction of the window counts here (the GPTQ protocol's positions). Softmaxes in float64.
 */
public final class LmEval {
    private static final int CHUNK = 64;   // positions per forward call: bounds the logits buffer to CHUNK·vocab

    private LmEval() {
    }

    /**
     * The evaluation's numbers. Reference fields are NaN when no reference was given.
     *
     * @param ctx                 window length L
     * @param windows             n
     * @param predictions         n·(L − 1)
     * @param perplexity          the model's PPL
     * @param referencePerplexity the reference's PPL on the same windows
     * @param klMean              mean KL(p_ref ‖ p) in nats
     * @param kl99                99th percentile of KL
     * @param klMax               largest KL
     * @param top1                fraction of predictions with the same argmax, in [0, 1]
     */
    public record Result(int ctx, int windows, long predictions, double perplexity, double referencePerplexity,
                         double klMean, double kl99, double klMax, double top1) {
    }

    /**
     * Evaluates {@code model} (and compares it with {@code reference} when not null) on {@code ids}.
     *
     * @throws IllegalArgumentException if ctx is below 2 or above a model's context length, ids hold fewer than
     *                                  ctx tokens, or the vocabularies differ
     */
    public static Result evaluate(CausalLM model, CausalLM reference, int[] ids, int ctx) {
        if (ctx < 2 || ctx > model.contextLength() || reference != null && ctx > reference.contextLength()) {
            throw new IllegalArgumentException("eval: window " + ctx + " must be in [2, " + model.contextLength()
                    + "] (the model's context length" + (reference == null ? "" : " and the reference's "
                    + reference.contextLength()) + ")");
        }
        if (reference != null && reference.vocabSize() != model.vocabSize()) {
            throw new IllegalArgumentException("eval: model vocabulary " + model.vocabSize()
                    + " differs from the reference's " + reference.vocabSize());
        }
        int n = ids.length / ctx, vocab = model.vocabSize();
        if (n == 0) {
            throw new IllegalArgumentException("eval: the text has " + ids.length + " tokens, fewer than one window of "
                    + ctx + "; give a longer text or a smaller --ctx");
        }
        int chunk = Math.min(CHUNK, ctx);
        CausalLM.Session s = model.newSession(ctx);
        CausalLM.Session r = reference == null ? null : reference.newSession(ctx);
        long preds = (long) n * (ctx - 1);
        double[] kl = reference == null ? null : new double[Math.toIntExact(preds)];
        double nll = 0, refNll = 0;
        long same = 0;
        int k = 0;
        for (int w = 0; w < n; w++) {
            s.reset();
            if (r != null) {
                r.reset();
            }
            double loss = 0, refLoss = 0;
            for (int c = 0; c < ctx - 1; c += chunk) {
                int len = Math.min(chunk, ctx - 1 - c);   // the window's last position predicts nothing
                int off = w * ctx + c;
                float[] lp = s.appendAll(ids, off, len);
                float[] lr = r == null ? null : r.appendAll(ids, off, len);
                for (int j = 0; j < len; j++) {
                    int target = ids[off + j + 1];
                    double lse = LogSoftmax.logSumExp(lp, j * vocab, vocab);
                    loss += lse - lp[j * vocab + target];
                    if (lr != null) {
                        double lseR = LogSoftmax.logSumExp(lr, j * vocab, vocab);
                        refLoss += lseR - lr[j * vocab + target];
                        kl[k++] = kl(lr, lp, j * vocab, vocab, lseR, lse);
                        if (Greedy.argmax(lr, j * vocab, vocab) == Greedy.argmax(lp, j * vocab, vocab)) {
                            same++;
                        }
                    }
                }
            }
            nll += loss / (ctx - 1) * ctx;
            refNll += refLoss / (ctx - 1) * ctx;
        }
        double ppl = Math.exp(nll / ((double) n * ctx));
        if (kl == null) {
            return new Result(ctx, n, preds, ppl, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        double sum = 0;
        for (double v : kl) {
            sum += v;
        }
        Arrays.sort(kl);
        return new Result(ctx, n, preds, ppl, Math.exp(refNll / ((double) n * ctx)), sum / kl.length,
                percentile(kl, 0.99), kl[kl.length - 1], (double) same / preds);
    }

    /** The value at {@code fraction} of sorted {@code v}, interpolating linearly between neighbours. */
    static double percentile(double[] sorted, double fraction) {
        double p = fraction * (sorted.length - 1);
        int i = (int) p;
        p -= i;
        return (1 - p) * sorted[i] + p * sorted[Math.min(i + 1, sorted.length - 1)];
    }

    // Σ p_ref (log p_ref − log p) with log p = logit − lse; clamped at 0 against rounding
    private static double kl(float[] ref, float[] model, int off, int n, double lseRef, double lse) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            double lr = ref[off + i] - lseRef;
            s += Math.exp(lr) * (lr - (model[off + i] - lse));
        }
        return Math.max(0, s);
    }
}
