package dev.interlayer.nn;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.nn.moe.MoeConfig;
import dev.interlayer.nn.moe.MoeFeedForward;
import dev.interlayer.nn.moe.SharedExperts;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.testing.JsonArrays;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Reads the golden fixtures written by reference/nn/golden_nn.py and builds the layers they describe.
 * This is the one place mapping the fixture's config keys and weight names to the Java API.
 */
public final class Golden {
    private Golden() {
    }

    /**
     * The JSON object in the test resource {@code path} (e.g. {@code "research/xl.json"}); a missing file is an
     * IllegalStateException naming it and {@code madeBy} (the script that writes it, or "").
     */
    public static JsonObject resource(String path, String madeBy) {
        try (InputStream in = Golden.class.getResourceAsStream("/" + path)) {
            if (in == null) {
                throw new IllegalStateException("missing fixture " + path + madeBy);
            }
            return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The cases of golden/{file}. */
    public static List<JsonObject> cases(String file) {
        List<JsonObject> out = new ArrayList<>();
        for (JsonElement e : resource("golden/" + file, "").getAsJsonArray("cases")) {
            out.add(e.getAsJsonObject());
        }
        return out;
    }

    /** The case named {@code name} of golden/{file}. */
    public static JsonObject find(String file, String name) {
        return cases(file).stream().filter(c -> c.get("name").getAsString().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no case " + name + " in " + file));
    }

    /** A {shape, data} object as an F32 tensor. */
    public static Tensor tensor(JsonObject t) {
        return Tensor.wrap(JsonArrays.floats(t.getAsJsonArray("data")),
                Shape.of(JsonArrays.ints(t.getAsJsonArray("shape"))));
    }

    /** A JSON boolean array, or null if the case has no such key. */
    public static boolean[] booleans(JsonObject c, String key) {
        return c.has(key) ? JsonArrays.booleans(c.getAsJsonArray(key)) : null;
    }

    /** A {shape, data} object as doubles (expected values are float64). */
    public static double[] doubles(JsonObject t) {
        return JsonArrays.doubles(t.getAsJsonArray("data"));
    }

    /** Builds layers from a case's weights, optionally converting every weight (e.g. to BF16). */
    public static final class Builder {
        private final JsonObject weights;
        private final UnaryOperator<Tensor> convert;

        public Builder(JsonObject weights, UnaryOperator<Tensor> convert) {
            this.weights = weights;
            this.convert = convert;
        }

        public Builder(JsonObject weights) {
            this(weights, UnaryOperator.identity());
        }

        public boolean has(String name) {
            return weights.has(name);
        }

        public Tensor w(String name) {
            if (!weights.has(name)) {
                throw new IllegalArgumentException("fixture has no weight " + name);
            }
            return convert.apply(tensor(weights.getAsJsonObject(name)));
        }

        Linear linear(String p) {
            return new Linear(w(p + ".w"), has(p + ".b") ? w(p + ".b") : null);
        }

        public Norm norm(JsonObject cfg, String p) {
            float eps = cfg.get("eps").getAsFloat();
            return switch (cfg.get("type").getAsString()) {
                case "layer" -> new LayerNorm(w(p + ".w"), w(p + ".b"), eps);
                case "rms1p" -> new RmsNorm(w(p + ".w"), eps, true);
                case "rms" -> new RmsNorm(w(p + ".w"), eps, false);
                default -> throw new IllegalArgumentException(cfg.toString());
            };
        }

        public Attention attention(JsonObject a, JsonObject normCfg, String p) {
            AttentionConfig c = attentionConfig(a);
            Norm qn = null, kn = null;
            if (c.qkNorm() != QkNorm.NONE) {
                qn = norm(normCfg, p + "q_norm");
                kn = norm(normCfg, p + "k_norm");
            }
            return new Attention(c, linear(p + "q"), linear(p + "k"), linear(p + "v"), linear(p + "o"), qn, kn);
        }

        public FeedForward ffn(JsonObject f, String p, int d) {
            return switch (f.get("kind").getAsString()) {
                case "mlp" -> new Mlp(linear(p + "up"), linear(p + "down"), activation(f.get("act").getAsString()));
                case "gated" -> new GatedMlp(linear(p + "gate"), linear(p + "up"), linear(p + "down"),
                        activation(f.get("act").getAsString()));
                case "moe" -> moe(f, p, d);
                default -> throw new IllegalArgumentException(f.toString());
            };
        }

        public MoeFeedForward moe(JsonObject f, String p, int d) {
            int e = f.get("experts").getAsInt();
            SharedExperts shared = SharedExperts.valueOf(f.get("shared").getAsString().toUpperCase());
            MoeConfig c = new MoeConfig(d, e, f.get("top_k").getAsInt(), f.get("norm_topk").getAsBoolean(), shared);
            List<FeedForward> experts = new ArrayList<>();
            for (int j = 0; j < e; j++) {
                experts.add(GatedMlp.swiGlu(linear(p + "e" + j + ".gate"), linear(p + "e" + j + ".up"),
                        linear(p + "e" + j + ".down")));
            }
            FeedForward sh = shared == SharedExperts.NONE ? null : GatedMlp.swiGlu(linear(p + "shared.gate"),
                    linear(p + "shared.up"), linear(p + "shared.down"));
            Linear gate = shared == SharedExperts.GATED ? linear(p + "shared_gate") : null;
            return new MoeFeedForward(c, linear(p + "router"), experts, sh, gate);
        }

        public TransformerBlock block(JsonObject b, String p) {
            JsonObject n = b.getAsJsonObject("norm");
            AttentionConfig ac = attentionConfig(b.getAsJsonObject("attention"));
            NormPlacement pl = NormPlacement.valueOf(b.get("placement").getAsString().toUpperCase());
            boolean parallel = b.has("parallel") && b.get("parallel").getAsBoolean();
            float alpha = b.has("alpha") ? b.get("alpha").getAsFloat() : 1f;
            float s = b.has("norm_scale") ? b.get("norm_scale").getAsFloat() : 1f;
            BlockConfig cfg = new BlockConfig(ac, pl, parallel, alpha, s);
            Norm ai = has(p + "attn_in.w") ? norm(n, p + "attn_in") : null;
            Norm ao = has(p + "attn_out.w") ? norm(n, p + "attn_out") : null;
            Norm fi = has(p + "ffn_in.w") ? norm(n, p + "ffn_in") : null;
            Norm fo = has(p + "ffn_out.w") ? norm(n, p + "ffn_out") : null;
            return new TransformerBlock(cfg, ai, attention(b.getAsJsonObject("attention"), n, p + "attn."), ao, fi,
                    ffn(b.getAsJsonObject("ffn"), p + "ffn.", ac.hidden()), fo);
        }

        public List<TransformerBlock> blocks(JsonObject c) {
            List<TransformerBlock> out = new ArrayList<>();
            JsonArray layers = c.getAsJsonArray("layers");
            for (int l = 0; l < layers.size(); l++) {
                out.add(block(layers.get(l).getAsJsonObject(), "l" + l + "."));
            }
            return out;
        }

        public DecoderStack decoder(JsonObject c) {
            Embedding emb = new Embedding(w("embed"), c.get("embedding_scale").getAsFloat());
            LearnedPositions pos = c.has("learned_positions") ? new LearnedPositions(w("pos")) : null;
            Norm fin = norm(c.getAsJsonObject("final_norm"), "final");
            return new DecoderStack(emb, pos, null, blocks(c), fin);
        }

        public EncoderStack encoder(JsonObject c) {
            Embedding emb = new Embedding(w("embed"), c.get("embedding_scale").getAsFloat());
            LearnedPositions pos = c.has("learned_positions") ? new LearnedPositions(w("pos")) : null;
            Norm en = c.has("embedding_norm") ? norm(c.getAsJsonObject("embedding_norm"), "embed_norm") : null;
            return new EncoderStack(emb, pos, en, blocks(c), null);
        }
    }

    static Activation activation(String s) {
        return switch (s) {
            case "gelu_erf" -> Activation.GELU_ERF;
            case "gelu_tanh" -> Activation.GELU_TANH;
            case "relu" -> Activation.RELU;
            case "relu2" -> Activation.RELU2;
            case "silu" -> Activation.SILU;
            default -> throw new IllegalArgumentException(s);
        };
    }

    /** Maps the fixture's attention keys onto {@link AttentionConfig}. */
    public static AttentionConfig attentionConfig(JsonObject a) {
        AttentionConfig.Builder b = AttentionConfig.builder(a.get("hidden").getAsInt(), a.get("heads").getAsInt(),
                        a.get("context").getAsInt())
                .kvHeads(a.get("kv_heads").getAsInt())
                .headDim(a.get("head_dim").getAsInt())
                .causal(a.get("causal").getAsBoolean())
                .window(a.get("window").getAsInt())
                .qkNorm(QkNorm.valueOf(a.get("qk_norm").getAsString().toUpperCase()))
                .softcap(a.get("softcap").getAsFloat())
                .scale(a.get("scale").getAsFloat());
        switch (a.get("pos").getAsString()) {
            case "rope" -> b.rope(rope(a.getAsJsonObject("rope")));
            case "alibi" -> b.alibi(a.get("alibi_max_bias").getAsFloat());
            default -> {
            }
        }
        return b.build();
    }

    static RopeConfig rope(JsonObject r) {
        JsonObject s = r.getAsJsonObject("scaling");
        RopeScaling scaling = switch (s.get("type").getAsString()) {
            case "none" -> new RopeScaling.None();
            case "linear" -> new RopeScaling.Linear(s.get("factor").getAsDouble());
            case "dynamic" -> new RopeScaling.DynamicNtk(s.get("factor").getAsDouble(), s.get("original").getAsInt());
            case "llama3" -> new RopeScaling.Llama3(s.get("factor").getAsDouble(), s.get("low").getAsDouble(),
                    s.get("high").getAsDouble(), s.get("original").getAsInt());
            default -> throw new IllegalArgumentException(s.toString());
        };
        Rope.Pairing pairing = r.get("pairing").getAsString().equals("half") ? Rope.Pairing.HALF_SPLIT
                : Rope.Pairing.INTERLEAVED;
        return new RopeConfig(r.get("theta").getAsDouble(), pairing, r.get("partial").getAsDouble(), scaling);
    }

    /** Converts a tensor to another float dtype (heap copy). */
    public static Tensor to(DType dtype, Tensor t) {
        Tensor out = Tensor.zeros(dtype, t.shape());
        out.copyFrom(t);
        return out;
    }
}
