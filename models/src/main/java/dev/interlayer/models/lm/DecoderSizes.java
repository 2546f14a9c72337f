package dev.interlayer.models.lm;

/**
 * The size checks every grouped-query decoder config shares: model width d, FFN width f, layers L, query heads
 * H, KV heads H_kv, head width d_h, vocabulary V and context T are all at least 1, and H_kv divides H (each KV
 * head serves H / H_kv query heads, as in "GQA: Training Generalized Multi-Query Transformer Models", Ainslie
 * et al. 2023).
 */
public final class DecoderSizes {
    private DecoderSizes() {
    }

    /**
     * Checks the sizes of a {@code family} config ("Gemma", "OLMo 2", ...).
     *
     * @throws IllegalArgumentException naming the family and every size if one is below 1, or naming heads and
     *                                  kvHeads if kvHeads does not divide heads
     */
    public static void check(String family, int dim, int hiddenDim, int layers, int heads, int kvHeads, int headDim,
            int vocabSize, int contextLength) {
        for (int v : new int[] {dim, hiddenDim, layers, heads, kvHeads, headDim, vocabSize, contextLength}) {
            if (v < 1) {
                throw new IllegalArgumentException(family + " config: sizes must be >= 1, got dim " + dim + ", hidden "
                        + hiddenDim + ", layers " + layers + ", heads " + heads + "/" + kvHeads + ", headDim "
                        + headDim + ", vocab " + vocabSize + ", context " + contextLength);
            }
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads " + heads + " not divisible by kvHeads " + kvHeads);
        }
    }
}
