package dev.interlayer.nn;

import dev.interlayer.nn.moe.MoeConfig;
import dev.interlayer.nn.moe.MoeFeedForward;
import dev.interlayer.nn.moe.SharedExperts;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Seeded random weights and layers for property tests. */
public final class RandomLayers {
    private final SplittableRandom rng;

    public RandomLayers(long seed) {
        this.rng = new SplittableRandom(seed);
    }

    /** Gaussian tensor with std 1/sqrt(last dim) (keeps activations O(1)). */
    public Tensor weight(int... dims) {
        return gaussian(1.0 / Math.sqrt(dims[dims.length - 1]), 0, dims);
    }

    /** Gaussian tensor with the given std and mean. */
    public Tensor gaussian(double std, double mean, int... dims) {
        Shape s = Shape.of(dims);
        float[] f = new float[(int) s.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) (mean + std * gaussian());
        }
        return Tensor.wrap(f, s);
    }

    private double gaussian() {
        double u = rng.nextDouble(), v = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }

    public int nextInt(int bound) {
        return rng.nextInt(bound);
    }

    public Linear linear(int out, int in) {
        return new Linear(weight(out, in));
    }

    public Norm rms(int d) {
        return new RmsNorm(gaussian(0.2, 1.0, d), 1e-6f);
    }

    public Attention attention(AttentionConfig c) {
        Norm qn = null, kn = null;
        if (c.qkNorm() == QkNorm.HEAD) {
            qn = rms(c.headDim());
            kn = rms(c.headDim());
        } else if (c.qkNorm() == QkNorm.FLAT) {
            qn = rms(c.qDim());
            kn = rms(c.kvDim());
        }
        int d = c.hidden();
        return new Attention(c, linear(c.qDim(), d), linear(c.kvDim(), d), linear(c.kvDim(), d),
                linear(d, c.qDim()), qn, kn);
    }

    public GatedMlp swiGlu(int d, int f) {
        return GatedMlp.swiGlu(linear(f, d), linear(f, d), linear(d, f));
    }

    /**
     * A top-2-of-4 MoE feed-forward (no shared experts, renormalised gates) over four random SwiGLU experts and a
     * random router; draws the experts first, then the router, so seeded tests stay reproducible.
     */
    public MoeFeedForward topTwoOfFourSwiGlu(int d, int f) {
        List<FeedForward> experts = new ArrayList<>();
        for (int e = 0; e < 4; e++) {
            experts.add(swiGlu(d, f));
        }
        return new MoeFeedForward(new MoeConfig(d, 4, 2, true, SharedExperts.NONE), linear(4, d), experts, null,
                null);
    }

    /** A block with the given placement; norms exactly as the placement requires. */
    public TransformerBlock block(BlockConfig cfg, FeedForward ffn) {
        int d = cfg.hidden();
        NormPlacement p = cfg.placement();
        return new TransformerBlock(cfg, p.hasInputNorm() ? rms(d) : null, attention(cfg.attention()),
                p.hasOutputNorm() ? rms(d) : null, p.hasInputNorm() ? rms(d) : null, ffn,
                p.hasOutputNorm() ? rms(d) : null);
    }

    /** An input [t, d]. */
    public Tensor input(int t, int d) {
        return gaussian(1.0, 0.0, t, d);
    }
}
