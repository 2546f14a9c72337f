package dev.interlayer.nn.plan;

import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.BlockConfig;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.Embedding;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.NormPlacement;
import dev.interlayer.nn.RandomLayers;
import dev.interlayer.nn.RopeConfig;
import dev.interlayer.nn.TransformerBlock;
import java.util.ArrayList;
import java.util.List;

/** Seeded random decoder stacks (d = 16, GQA 4/2, RoPE, SwiGLU) with mixed norm placements for property tests. */
final class RandomStacks {
    static final int VOCAB = 20, D = 16;

    private RandomStacks() {
    }

    /** A stack of L blocks; placements cycle PRE, PERI, POST, OUTPUT unless {@code preOnly}; block 1 is parallel. */
    static DecoderStack stack(long seed, int layers, boolean preOnly) {
        RandomLayers r = new RandomLayers(seed);
        AttentionConfig ac = AttentionConfig.builder(D, 4, 64).kvHeads(2).rope(RopeConfig.of(1e4)).build();
        NormPlacement[] cycle = {NormPlacement.PRE, NormPlacement.PERI, NormPlacement.POST, NormPlacement.OUTPUT};
        List<TransformerBlock> blocks = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            NormPlacement p = preOnly ? NormPlacement.PRE : cycle[l % cycle.length];
            boolean parallel = !preOnly && l == 1 % layers && p == NormPlacement.PRE;
            float scale = p.hasInputNorm() && !preOnly ? BlockConfig.layerNormScaling(l) : 1f;
            BlockConfig cfg = new BlockConfig(ac, p, parallel, preOnly ? 1f : 1.1f, scale);
            blocks.add(r.block(cfg, r.swiGlu(D, 24)));
        }
        return new DecoderStack(new Embedding(r.gaussian(1.0, 0, VOCAB, D)), null, null, blocks, r.rms(D));
    }

    /** A stack whose blocks are PRE with small attention/FFN outputs (later layers change the stream little). */
    static DecoderStack gentle(long seed, int layers) {
        return layerSkipLike(seed, layers, 1, 0.05);
    }

    /**
     * The shape of a LayerSkip-trained residual stream with random weights (as
     * reference/research/make_layerskip_like_gguf.py writes it): PRE blocks; in layers ≥ early the attention output
     * projection Wo and the FFN down projection are scaled by lateScale, so those layers refine x only a little.
     */
    static DecoderStack layerSkipLike(long seed, int layers, int early, double lateScale) {
        RandomLayers r = new RandomLayers(seed);
        AttentionConfig ac = AttentionConfig.builder(D, 4, 64).kvHeads(2).rope(RopeConfig.of(1e4)).build();
        List<TransformerBlock> blocks = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            double s = l < early ? 1.0 : lateScale;
            dev.interlayer.nn.Attention a = new dev.interlayer.nn.Attention(ac, r.linear(ac.qDim(), D),
                    r.linear(ac.kvDim(), D), r.linear(ac.kvDim(), D),
                    new Linear(r.gaussian(s / Math.sqrt(ac.qDim()), 0, D, ac.qDim())));
            blocks.add(new TransformerBlock(BlockConfig.of(ac, NormPlacement.PRE), r.rms(D), a, null, r.rms(D),
                    dev.interlayer.nn.GatedMlp.swiGlu(r.linear(24, D), r.linear(24, D),
                            new Linear(r.gaussian(s / Math.sqrt(24), 0, D, 24))), null));
        }
        return new DecoderStack(new Embedding(r.gaussian(1.0, 0, VOCAB, D)), null, null, blocks, r.rms(D));
    }

    static OutputHead head(long seed) {
        return new OutputHead(new RandomLayers(seed).linear(VOCAB, D));
    }
}
