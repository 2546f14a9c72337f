package dev.interlayer.nn.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.nn.Activation;
import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.LayerNorm;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.Mlp;
import dev.interlayer.nn.RandomLayers;
import dev.interlayer.nn.Runs;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The per-mechanism invariants of σ-MoE (Csordás et al. 2023, "Approximating Two-Layer Feedforward Networks for
 * Efficient Transformers"), the layerwise recurrent router (Qiu et al. 2024, "Layerwise Recurrent Router for
 * Mixture-of-Experts") and BASE layers (Lewis et al. 2021, "BASE Layers: Simplifying Training of Large, Sparse
 * Models").
 */
class RouterMechanismTest {
    static final int D = 10, M = 6;

    static float[] run(RoutedMoe m, Tensor x, Tensor sel) {
        Tensor y = Tensor.zeros(x.dim(0), x.dim(1));
        m.forward(x, sel, y, m.newScratch(x.dim(0)));
        return y.toFloatArray();
    }

    static Tensor scaled(Tensor w, float s) {
        Tensor out = Tensor.zeros(w.dim(0), w.dim(1));
        Ops.scale(w, s, out);
        return out;
    }

    @Test
    void sigmaMoeGatesAreNotNormalizedAndKEqualsEIsADenseReluFfn() {
        RandomLayers r = new RandomLayers(0x516L);
        int e = 5;
        List<FeedForward> ex = new ArrayList<>(), doubled = new ArrayList<>();
        for (int j = 0; j < e; j++) {
            Mlp m = new Mlp(r.linear(M, D), r.linear(D, M), Activation.RELU);
            ex.add(m);
            doubled.add(new Mlp(m.up(), new Linear(scaled(m.down().weight(), 2f)), Activation.RELU));
        }
        Linear sel = r.linear(e, D);
        Tensor x = r.input(7, D), n = Tensor.zeros(7, D);
        new LayerNorm(r.gaussian(0.1, 1, D), r.gaussian(0.1, 0, D), 1e-5f).apply(x, n);
        // (1) doubling every expert output (Values × 2) doubles y: the gates are not renormalized
        float[] y = run(new RoutedMoe(TopKRouter.sigma(sel, 2), ex, RoutedMoe.Combine.WEIGHTED_SUM), x, n);
        float[] y2 = run(new RoutedMoe(TopKRouter.sigma(sel, 2), doubled, RoutedMoe.Combine.WEIGHTED_SUM), x, n);
        double err = 0;
        for (int i = 0; i < y.length; i++) {
            err = Math.max(err, Math.abs(y2[i] - 2 * y[i]));
        }
        assertTrue(err <= 1e-6, "doubling: " + err);
        // (2) k = E with gates saturated at 1 (huge selection weights, inputs kept positive) equals the dense
        // ReLU FFN of width E·m: concat the keys and values
        Tensor big = Tensor.zeros(e, D);
        for (int j = 0; j < e; j++) {
            big.setFloat(1000f, j, 0);
        }
        Tensor xp = r.gaussian(0.3, 2.0, 7, D); // column 0 ≈ 2 > 0: logits ≈ 2000, σ = 1 in float
        float[] moe = run(new RoutedMoe(TopKRouter.sigma(new Linear(big), e), ex, RoutedMoe.Combine.WEIGHTED_SUM),
                xp, xp);
        Tensor up = Tensor.zeros(e * M, D), down = Tensor.zeros(D, e * M);
        for (int j = 0; j < e; j++) {
            Mlp m = (Mlp) ex.get(j);
            up.slice(0, j * M, (j + 1) * M).copyFrom(m.up().weight());
            down.slice(1, j * M, (j + 1) * M).copyFrom(m.down().weight());
        }
        Mlp dense = new Mlp(new Linear(up), new Linear(down), Activation.RELU);
        Tensor yd = Tensor.zeros(7, D);
        dense.forward(xp, yd, dense.newScratch(7));
        assertTrue(Runs.maxAbs(moe, yd.toFloatArray()) <= 1e-5, "k = E: " + Runs.maxAbs(moe, yd.toFloatArray()));
    }

    @Test
    void recurrentRouterWithClosedUpdateGateKeepsTheStateAtZero() {
        RandomLayers r = new RandomLayers(0x6E0L);
        int h = 4, e = 5;
        // b_iz = +1000: zg = 1, so r_ℓ = r_{ℓ−1} = 0 in every layer and the logits W2·r are 0 (constant)
        Tensor bias = Tensor.zeros(3 * h);
        for (int j = h; j < 2 * h; j++) {
            bias.setFloat(1000f, j);
        }
        RecurrentCell cell = new RecurrentCell(new Linear(r.weight(3 * h, h), bias), r.linear(3 * h, h),
                RecurrentCell.Kind.GRU);
        List<RoutedMoe> layers = new ArrayList<>();
        for (int l = 0; l < 3; l++) {
            List<FeedForward> ex = new ArrayList<>();
            for (int j = 0; j < e; j++) {
                ex.add(r.swiGlu(D, 6));
            }
            layers.add(new RoutedMoe(new RecurrentRouter(r.linear(h, D), r.linear(e, h), cell, 2, true), ex,
                    RoutedMoe.Combine.WEIGHTED_SUM));
        }
        int t = 6;
        RoutingContext ctx = new RoutingContext(t);
        ctx.begin(null, t, 0);
        for (RoutedMoe m : layers) {
            RoutedMoe.State st = m.newScratch(t, ctx);
            m.forward(r.input(t, D), Tensor.zeros(t, D), st);
            Routing rt = st.routing();
            for (int i = 0; i < t * e; i++) {
                assertEquals(0f, rt.logits()[i], 0f, "logit " + i);
            }
            // uniform scores: ties go to the lowest indices, weight 1/2 each
            for (int a = 0; a < rt.count(); a++) {
                assertEquals(a % 2, rt.expert(a));
                assertEquals(0.5f, rt.weight(a), 1e-7f);
            }
        }
    }

    @Test
    void baseLayerWithZeroOutputProjectionsIsTheIdentity() {
        RandomLayers r = new RandomLayers(0xBA5L);
        int e = 3, f = 7;
        List<FeedForward> ex = new ArrayList<>();
        for (int j = 0; j < e; j++) {
            // W2 = 0 and b2 = 0 (the reference's initialization): every sublayer adds 0, so f_e = identity
            ex.add(new BaseExpert(List.of(new BaseExpert.Sublayer(new LayerNorm(r.gaussian(0.1, 1, D),
                    r.gaussian(0.1, 0, D), 1e-5f), new Mlp(new Linear(r.weight(f, D), r.gaussian(0.1, 0, f)),
                    new Linear(Tensor.zeros(D, f), Tensor.zeros(D)), Activation.RELU)))));
        }
        Tensor x = r.input(9, D);
        for (boolean balanced : new boolean[] {false, true}) {
            float[] y = run(new RoutedMoe(new BaseRouter(r.linear(e, D), balanced), ex,
                    RoutedMoe.Combine.MIX_WITH_INPUT), x, x);
            // α·x + (1 − α)·x in float: within a couple of ulps of x
            assertTrue(Runs.maxAbs(y, x.toFloatArray()) <= 1e-6, "balanced=" + balanced);
        }
    }

    static SwitchHeadAttention switchHead(RandomLayers r, SwitchHeadConfig c, int[] perm) {
        int h = c.heads(), ne = c.numExperts(), dh = c.headDim();
        Linear wq = r.linear(h * dh, D), wk = r.linear(h * dh, D), selV = r.linear(h * ne, D),
                selO = r.linear(h * ne, D);
        List<Linear> v = new ArrayList<>(), o = new ArrayList<>();
        for (int i = 0; i < h * ne; i++) {
            v.add(r.linear(dh, D));
            o.add(r.linear(D, dh));
        }
        if (perm == null) {
            return SwitchHeadAttention.withExperts(c, wq, wk, selV, selO, v, o);
        }
        // expert e of head hh becomes expert perm[e], selection rows moving with it
        Tensor pv = Tensor.zeros(h * ne, D), po = Tensor.zeros(h * ne, D);
        List<Linear> v2 = new ArrayList<>(v), o2 = new ArrayList<>(o);
        for (int hh = 0; hh < h; hh++) {
            for (int e = 0; e < ne; e++) {
                int from = hh * ne + e, to = hh * ne + perm[e];
                pv.select(0, to).copyFrom(selV.weight().select(0, from));
                po.select(0, to).copyFrom(selO.weight().select(0, from));
                v2.set(to, v.get(from));
                o2.set(to, o.get(from));
            }
        }
        return SwitchHeadAttention.withExperts(c, wq, wk, new Linear(pv), new Linear(po), v2, o2);
    }

    static float[] attend(SwitchHeadAttention a, Tensor n, Tensor x) {
        Tensor y = Tensor.zeros(x.dim(0), x.dim(1));
        a.forward(n, x, y, a.newState(x.dim(0)));
        return y.toFloatArray();
    }

    @Test
    void switchHeadValuesSeeTheRawStreamAndExpertPermutationChangesNothing() {
        SwitchHeadConfig c = new SwitchHeadConfig(D, 2, 6, 4, 2, 0.5, 10000, 16);
        Tensor n = new RandomLayers(1).input(9, D), x = new RandomLayers(2).input(9, D), x2 = Tensor.zeros(9, D);
        Ops.scale(x, 2f, x2);
        SwitchHeadAttention a = switchHead(new RandomLayers(0x5E1L), c, null);
        float[] y = attend(a, n, x), y2 = attend(a, n, x2);
        double err = 0;
        for (int i = 0; i < y.length; i++) {
            err = Math.max(err, Math.abs(y2[i] - 2 * y[i]));
        }
        // the selection reads n only, so doubling x doubles v, o and the output
        assertTrue(err <= 1e-5, "x → 2x: " + err);
        SwitchHeadAttention b = switchHead(new RandomLayers(0x5E1L), c, new int[] {2, 0, 3, 1});
        assertTrue(Runs.maxAbs(attend(b, n, x), y) <= 1e-6, "permuted experts");
    }
}
