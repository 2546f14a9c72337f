package dev.interlayer.nn;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a block's norms sit relative to each residual add, per sublayer F
 * with skip weight α (1 except DeepNorm):
 * <pre>
 * PRE    x' = α·x + F(s·N_in(x))
 * POST   x' = N_out(α·x + F(x))
 * PERI   x' = α·x + N_out(F(s·N_in(x)))      (Gemma 2/3 sandwich)
 * OUTPUT x' = α·x + N_out(F(x))              (OLMo 2)
 * NONE   x' = α·x + F(x)
 * </pre>
 * s is the LayerNorm-Scaling factor (1 unless enabled).
 */
public enum NormPlacement {
    /** x' = α·x + F(s·N_in(x)): Llama, GPT-2, most decoders. */
    PRE,
    /** x' = N_out(α·x + F(x)): original Transformer, BERT. */
    POST,
    /**
     * x' = α·x + N_out(F(s·N_in(x))): Peri-LN (Kim et al. 2025, "Peri-LN: Revisiting Layer Normalization in the
     * Transformer Architecture"), the Gemma 2/3 sandwich. The output norm acts on F(·) before the add, unlike POST.
     */
    PERI,
    /** x' = α·x + N_out(F(x)): OLMo 2. */
    OUTPUT,
    /** x' = α·x + F(x): no norms in the block. */
    NONE;

    /**
     * x ← x' for one sublayer output f = F(·), per this placement (table above) with skip weight {@code alpha};
     * {@code out} is N_out (unused by PRE and NONE). Modifies x, and f (scratch) for PERI and OUTPUT.
     */
    public void residual(Tensor x, Tensor f, Norm out, float alpha) {
        switch (this) {
            case PRE, NONE -> {
                scaleSkip(x, alpha);
                Ops.add(x, f, x);
            }
            case PERI, OUTPUT -> {
                out.apply(f, f);
                scaleSkip(x, alpha);
                Ops.add(x, f, x);
            }
            case POST -> {
                scaleSkip(x, alpha);
                Ops.add(x, f, x);
                out.apply(x, x);
            }
        }
    }

    /** x ← α·x, the skip branch's weight (nothing to do for α = 1). */
    public static void scaleSkip(Tensor x, float alpha) {
        if (alpha != 1f) {
            Ops.scale(x, alpha, x);
        }
    }

    /** True if the sublayer input is normalized. */
    public boolean hasInputNorm() {
        return this == PRE || this == PERI;
    }

    /** True if a norm follows the sublayer (PERI, OUTPUT) or the residual sum (POST). */
    public boolean hasOutputNorm() {
        return this == POST || this == PERI || this == OUTPUT;
    }

    /**
     * Mix-LN (Li et al. 2024, "Mix-LN: Unleashing the Power of Deeper Layers by Combining Pre-LN and Post-LN"):
     * the first {@code postLayers} layers POST, the rest PRE.
     */
    public static List<NormPlacement> mixLn(int layers, int postLayers) {
        if (postLayers < 0 || postLayers > layers) {
            throw new IllegalArgumentException("mixLn: postLayers " + postLayers + " must be in [0, layers="
                    + layers + "]");
        }
        List<NormPlacement> out = new ArrayList<>(layers);
        for (int l = 0; l < layers; l++) {
            out.add(l < postLayers ? POST : PRE);
        }
        return List.copyOf(out);
    }
}
