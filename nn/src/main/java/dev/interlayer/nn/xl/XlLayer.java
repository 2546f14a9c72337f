package dev.interlayer.nn.xl;

import dev.interlayer.nn.LayerNorm;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.Mlp;
import dev.interlayer.tensor.Tensor;

/**
 * Weights of one Transformer-XL layer (relative multi-head attention + position-wise FFN):
 * <pre>
 *   q = x·Wqᵀ,  k = x̃·Wkᵀ,  v = x̃·Wvᵀ  with x̃ = concat(mem, x);   r[δ] = R[δ]·Wrᵀ
 *   score(i, j) = ((q_i + u)·k_j + (q_i + v_b)·r[M + i − j]) / √dh
 *   Post-LN: h = LN_a(x + Wo·o);  y = LN_f(h + FFN(h))      Pre-LN: h = x + Wo·o(LN_a(x̃));  y = h + FFN(LN_f(h))
 * </pre>
 *
 * @param wq       [H·dh, d], no bias
 * @param wk       [H·dh, d], no bias
 * @param wv       [H·dh, d], no bias
 * @param wo       [d, H·dh], no bias
 * @param wr       [H·dh, d], projects the sinusoid R[δ] (the reference's {@code r_net})
 * @param contentBias  u [H, dh] ({@code r_w_bias}; the same tensor in every layer unless untied)
 * @param positionBias v_b [H, dh] ({@code r_r_bias})
 * @param attnNorm LN around attention
 * @param ffnNorm  LN around the FFN
 * @param ffn      ReLU MLP (d → inner → d)
 */
public record XlLayer(Linear wq, Linear wk, Linear wv, Linear wo, Linear wr, Tensor contentBias, Tensor positionBias,
                      LayerNorm attnNorm, LayerNorm ffnNorm, Mlp ffn) {
    /** @throws IllegalArgumentException naming the weight whose shape does not fit */
    public XlLayer {
        int d = wq.in(), hd = wq.out();
        wk.requireShape("Transformer-XL W_k", hd, d);
        wv.requireShape("Transformer-XL W_v", hd, d);
        wr.requireShape("Transformer-XL W_r", hd, d);
        wo.requireShape("Transformer-XL W_o", d, hd);
        if (contentBias.size() != hd || positionBias.size() != hd) {
            throw new IllegalArgumentException("Transformer-XL biases u " + contentBias.shape() + " and v "
                    + positionBias.shape() + " must hold H·dh = " + hd + " values");
        }
        if (ffn.hidden() != d || attnNorm.weight().size() != d || ffnNorm.weight().size() != d) {
            throw new IllegalArgumentException("Transformer-XL FFN and norms must have width d = " + d);
        }
    }
}
