package dev.interlayer.nn.readout;

import dev.interlayer.nn.Linear;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Tuned-lens translators ("Eliciting Latent Predictions from Transformers with the Tuned Lens", Belrose et al.):
 * one affine map per layer, added residually, x ↦ x + A_ℓ·x + b_ℓ. Layers without a translator (ℓ ≥ layers())
 * are read with the plain logit lens.
 *
 * <p>Shapes: A_ℓ [d, d] (stored [out, in]); b_ℓ [d].
 *
 * @param translators one Linear(d, d) with bias per layer 0..n−1
 */
public record TunedLens(List<Linear> translators) {
    /** @throws IllegalArgumentException if a translator is not square or translators is empty */
    public TunedLens {
        if (translators == null || translators.isEmpty()) {
            throw new IllegalArgumentException("TunedLens: needs at least one translator");
        }
        translators = List.copyOf(translators);
        int d = translators.get(0).in();
        for (int l = 0; l < translators.size(); l++) {
            Linear t = translators.get(l);
            t.requireShape("TunedLens translator " + l, d, d);
        }
    }

    /**
     * Loads translators from named tensors as tuned-lens releases store them: {@code layer_translators.ℓ.weight}
     * [d, d] and {@code layer_translators.ℓ.bias} [d] for ℓ = 0..layers−1. {@code tensors} returns null for a
     * missing name (a safetensors file's lookup is the intended source; reading the file is the caller's job).
     *
     * @throws IllegalArgumentException naming the first missing tensor
     */
    public static TunedLens fromTensors(Function<String, Tensor> tensors, int layers) {
        List<Linear> out = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            String w = "layer_translators." + l + ".weight", b = "layer_translators." + l + ".bias";
            Tensor wt = tensors.apply(w), bt = tensors.apply(b);
            if (wt == null || bt == null) {
                throw new IllegalArgumentException("tuned lens: missing tensor " + (wt == null ? w : b));
            }
            out.add(new Linear(wt, bt));
        }
        return new TunedLens(out);
    }

    /** Number of layers with a translator. */
    public int layers() {
        return translators.size();
    }

    /** x + A_ℓ·x + b_ℓ as a new [T, d] tensor. */
    public Tensor apply(int layer, Tensor x) {
        Tensor y = translators.get(layer).apply(x, Tensor.zeros(x.dim(0), x.dim(1)));
        return Ops.add(x, y, y);
    }
}
