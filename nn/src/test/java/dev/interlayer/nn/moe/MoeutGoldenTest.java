package dev.interlayer.nn.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.interlayer.nn.Activation;
import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.Golden;
import dev.interlayer.nn.LayerNorm;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.Mlp;
import dev.interlayer.nn.Runs;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * SwitchHead attention (n_e = 3 experts per head, and n_e = 1 gated heads) and a MoEUT stack (G = 2 physical
 * layers, L = 4 steps) against golden/moeut.json (reference/moe/moeut.py, PyTorch float64), each run as one
 * prefill, token by token, and prefill of 3 then decode. Tolerance 1e-4 absolute: F32 vs float64 on O(1)
 * values through four layers of attention and σ-MoE.
 */
class MoeutGoldenTest {
    static final String FILE = "moeut.json";
    static final double TOL = 1e-4;

    static SwitchHeadConfig config(JsonObject c, int context) {
        return new SwitchHeadConfig(c.get("hidden").getAsInt(), c.get("heads").getAsInt(), c.get("head_dim")
                .getAsInt(), c.get("experts").getAsInt(), c.get("top_k").getAsInt(), c.get("rotate_fraction")
                .getAsDouble(), c.get("theta").getAsDouble(), context);
    }

    static Linear lin(JsonObject k, String name) {
        return new Linear(RouterFixtures.w(k, name));
    }

    static SwitchHeadAttention attention(JsonObject k, String p, SwitchHeadConfig c) {
        if (c.numExperts() == 1) {
            return SwitchHeadAttention.gatedHeads(c, lin(k, p + "wq"), lin(k, p + "wk"), lin(k, p + "wv"),
                    lin(k, p + "wo"), lin(k, p + "selo"));
        }
        List<Linear> v = new ArrayList<>(), o = new ArrayList<>();
        for (int h = 0; h < c.heads(); h++) {
            for (int e = 0; e < c.numExperts(); e++) {
                v.add(lin(k, p + "v" + h + "_" + e));
                o.add(lin(k, p + "o" + h + "_" + e));
            }
        }
        return SwitchHeadAttention.withExperts(c, lin(k, p + "wq"), lin(k, p + "wk"), lin(k, p + "selv"),
                lin(k, p + "selo"), v, o);
    }

    static MoeutBlock block(JsonObject k, String p, JsonObject cfg, SwitchHeadConfig c) {
        int e = cfg.get("ff_experts").getAsInt();
        List<FeedForward> experts = new ArrayList<>();
        for (int j = 0; j < e; j++) {
            experts.add(new Mlp(lin(k, p + "ffn.e" + j + ".up"), lin(k, p + "ffn.e" + j + ".down"), Activation.RELU));
        }
        RoutedMoe ffn = new RoutedMoe(TopKRouter.sigma(lin(k, p + "ffn.router"), cfg.get("ff_k").getAsInt()),
                experts, RoutedMoe.Combine.WEIGHTED_SUM);
        return new MoeutBlock(new LayerNorm(RouterFixtures.w(k, p + "ln1.w"), RouterFixtures.w(k, p + "ln1.b"), 1e-5f),
                attention(k, p + "att.", c),
                new LayerNorm(RouterFixtures.w(k, p + "ln2.w"), RouterFixtures.w(k, p + "ln2.b"), 1e-5f), ffn);
    }

    @Test
    void switchHeadMatchesReferenceInEverySchedule() {
        for (String name : List.of("switchhead_experts", "switchhead_gated")) {
            JsonObject k = Golden.find(FILE, name);
            Tensor n = Golden.tensor(k.getAsJsonObject("normed")), x = Golden.tensor(k.getAsJsonObject("x"));
            int t = x.dim(0), d = x.dim(1);
            SwitchHeadConfig c = config(k.getAsJsonObject("config"), t); // context = T: one more token overflows
            SwitchHeadAttention a = attention(k, "", c);
            double[] want = Golden.doubles(k.getAsJsonObject("output"));
            for (int[] sched : Runs.schedules(t)) {
                SwitchHeadAttention.State st = a.newState(t);
                float[] got = Runs.chunked(sched, d, (past, ch) -> {
                    Tensor y = Tensor.zeros(ch, d);
                    a.forward(n.slice(0, past, past + ch), x.slice(0, past, past + ch), y, st);
                    return y;
                });
                double err = Runs.maxAbs(got, want);
                System.out.printf("%-20s %-16s max abs err %.2e%n", name, Runs.name(sched, t), err);
                assertTrue(err <= TOL, name + " " + Runs.name(sched, t) + ": " + err);
                assertEquals(t, st.length());
                if (c.numExperts() > 1) {
                    // value selection: k experts per (head, token) of the last call
                    assertEquals(c.topK(), st.valueStats().slotsPerToken(), 0.0);
                    assertEquals(c.heads() * sched[sched.length - 1], st.valueStats().tokens());
                }
            }
            SwitchHeadAttention.State full = a.newState(t);
            a.forward(n, x, Tensor.zeros(t, d), full);
            var e = assertThrows(IllegalStateException.class, () -> a.forward(n.slice(0, 0, 1), x.slice(0, 0, 1),
                    Tensor.zeros(1, d), full));
            assertTrue(e.getMessage().contains("context length"), e.getMessage());
        }
    }

    @Test
    void moeutStackWithLayerGroupingMatchesReference() {
        JsonObject k = Golden.find(FILE, "moeut_g2_l4");
        JsonObject cfg = k.getAsJsonObject("config");
        SwitchHeadConfig c = config(cfg, 8);
        int g = cfg.get("group").getAsInt(), steps = cfg.get("steps").getAsInt();
        List<MoeutBlock> group = new ArrayList<>();
        for (int i = 0; i < g; i++) {
            group.add(block(k, "g" + i + ".", cfg, c));
        }
        MoeutStack stack = new MoeutStack(group, steps);
        Tensor x = Golden.tensor(k.getAsJsonObject("x"));
        int t = x.dim(0), d = x.dim(1);
        double[] want = Golden.doubles(k.getAsJsonObject("output"));
        for (int[] sched : Runs.schedules(t)) {
            MoeutStack.State st = stack.newState(t);
            float[] got = Runs.chunked(sched, d, (past, ch) -> {
                Tensor y = x.slice(0, past, past + ch).copy();
                stack.forward(y, st);
                return y;
            });
            double err = Runs.maxAbs(got, want);
            System.out.printf("moeut G=%d L=%d %-16s max abs err %.2e; step 3 σ-MoE %s%n", g, steps,
                    Runs.name(sched, t), err, st.step(3).ffn().stats());
            assertTrue(err <= TOL, Runs.name(sched, t) + ": " + err);
            // steps 1 and 3 run physical layer 1: one key/value store per step, t positions each
            assertEquals(t, st.step(1).attention().length());
            assertEquals(t, st.step(3).attention().length());
        }
        assertEquals(1, MoeutStack.physicalLayer(3, 2));
        assertEquals(2, MoeutStack.physicalLayer(2, 4)); // G = L: the identity plan, an ordinary stack
        assertThrows(IllegalArgumentException.class, () -> new MoeutStack(group, 3));
    }
}
