package dev.interlayer.nn.moe;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.interlayer.nn.Activation;
import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.GatedMlp;
import dev.interlayer.nn.Golden;
import dev.interlayer.nn.LayerNorm;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.Mlp;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.testing.JsonArrays;
import java.util.ArrayList;
import java.util.List;

/** Builds the layers of golden/moe_routers.json (written by reference/moe/moe_routers.py). */
final class RouterFixtures {
    private RouterFixtures() {
    }

    static final String FILE = "moe_routers.json";

    static Tensor w(JsonObject c, String name) {
        JsonObject ws = c.getAsJsonObject("weights");
        if (!ws.has(name)) {
            throw new IllegalArgumentException("fixture " + c.get("name") + " has no weight " + name);
        }
        return Golden.tensor(ws.getAsJsonObject(name));
    }

    static List<FeedForward> experts(JsonObject c, String prefix, int e) {
        String kind = c.has("expert_kind") ? c.get("expert_kind").getAsString() : "swiglu";
        List<FeedForward> out = new ArrayList<>();
        for (int j = 0; j < e; j++) {
            String p = prefix + "e" + j + ".";
            out.add(kind.equals("relu")
                    ? new Mlp(new Linear(w(c, p + "up")), new Linear(w(c, p + "down")), Activation.RELU)
                    : GatedMlp.swiGlu(new Linear(w(c, p + "gate")), new Linear(w(c, p + "up")),
                    new Linear(w(c, p + "down"))));
        }
        return out;
    }

    static List<FeedForward> baseExperts(JsonObject c, int e, int sub) {
        List<FeedForward> out = new ArrayList<>();
        for (int j = 0; j < e; j++) {
            List<BaseExpert.Sublayer> ss = new ArrayList<>();
            for (int s = 0; s < sub; s++) {
                String p = "e" + j + ".s" + s + ".";
                ss.add(new BaseExpert.Sublayer(new LayerNorm(w(c, p + "ln.w"), w(c, p + "ln.b"), 1e-5f),
                        new Mlp(new Linear(w(c, p + "ff1.w"), w(c, p + "ff1.b")),
                                new Linear(w(c, p + "ff2.w"), w(c, p + "ff2.b")), Activation.RELU)));
            }
            out.add(new BaseExpert(ss));
        }
        return out;
    }

    /** The single-layer routed MoE of a case (not the recurrent cases). */
    static RoutedMoe layer(JsonObject c, boolean balancedBase) {
        int e = c.get("experts").getAsInt();
        return switch (c.get("router").getAsString()) {
            case "topk" -> {
                TopKRouter.Score score = c.get("score").getAsString().equals("softmax") ? TopKRouter.Score.SOFTMAX
                        : TopKRouter.Score.SIGMOID;
                TopKRouter r = new TopKRouter(new Linear(w(c, "router")), c.get("top_k").getAsInt(), score,
                        c.get("norm_topk").getAsBoolean());
                CapacityLimit cap = c.has("capacity_factor") ? new CapacityLimit(c.get("capacity_factor").getAsDouble(),
                        CapacityLimit.DropPolicy.valueOf(c.get("drop_policy").getAsString().toUpperCase())) : null;
                yield new RoutedMoe(r, experts(c, "", e), RoutedMoe.Combine.WEIGHTED_SUM, cap);
            }
            case "hash" -> new RoutedMoe(new HashRouter(JsonArrays.ints(c.getAsJsonArray("table")), e),
                    experts(c, "", e), RoutedMoe.Combine.WEIGHTED_SUM);
            case "expert_choice" -> new RoutedMoe(new ExpertChoiceRouter(new Linear(w(c, "router")),
                    c.get("capacity_factor").getAsDouble()), experts(c, "", e), RoutedMoe.Combine.WEIGHTED_SUM);
            case "base" -> new RoutedMoe(new BaseRouter(new Linear(w(c, "centroids")), balancedBase),
                    baseExperts(c, e, c.get("sublayers").getAsInt()), RoutedMoe.Combine.MIX_WITH_INPUT);
            default -> throw new IllegalArgumentException(c.get("router").getAsString());
        };
    }

    /** The layers of a recurrent case, sharing one cell. */
    static List<RoutedMoe> recurrentLayers(JsonObject c) {
        int e = c.get("experts").getAsInt(), k = c.get("top_k").getAsInt();
        RecurrentCell cell = new RecurrentCell(new Linear(w(c, "gru.w_ih"), w(c, "gru.b_ih")),
                new Linear(w(c, "gru.w_hh"), w(c, "gru.b_hh")),
                c.get("cell").getAsString().equals("gru") ? RecurrentCell.Kind.GRU : RecurrentCell.Kind.RNN);
        List<RoutedMoe> out = new ArrayList<>();
        for (int l = 0; l < c.getAsJsonArray("layers").size(); l++) {
            RecurrentRouter r = new RecurrentRouter(new Linear(w(c, "l" + l + ".w1")), new Linear(w(c, "l" + l
                    + ".w2")), cell, k, true);
            out.add(new RoutedMoe(r, experts(c, "l" + l + ".", e), RoutedMoe.Combine.WEIGHTED_SUM));
        }
        return out;
    }

    /** Assignments [[t, e, w, kept], ...] sorted by (t, e) as "t:e" strings and weights. */
    static List<double[]> assignments(JsonArray a) {
        List<double[]> out = new ArrayList<>();
        for (JsonElement x : a) {
            JsonArray r = x.getAsJsonArray();
            out.add(new double[] {r.get(0).getAsInt(), r.get(1).getAsInt(), r.get(2).getAsDouble(),
                    r.get(3).getAsBoolean() ? 1 : 0});
        }
        out.sort((p, q) -> p[0] != q[0] ? Double.compare(p[0], q[0]) : Double.compare(p[1], q[1]));
        return out;
    }

    static List<double[]> assignments(Routing r) {
        List<double[]> out = new ArrayList<>();
        for (int i = 0; i < r.count(); i++) {
            out.add(new double[] {r.token(i), r.expert(i), r.weight(i), r.dropped(i) ? 0 : 1});
        }
        out.sort((p, q) -> p[0] != q[0] ? Double.compare(p[0], q[0]) : Double.compare(p[1], q[1]));
        return out;
    }
}
