package dev.interlayer.nn.plan;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.Attention;
import dev.interlayer.nn.BlockConfig;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.Embedding;
import dev.interlayer.nn.GatedMlp;
import dev.interlayer.nn.Golden;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.NormPlacement;
import dev.interlayer.nn.RmsNorm;
import dev.interlayer.nn.RopeConfig;
import dev.interlayer.nn.Runs;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.testing.JsonArrays;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Reads research/research.json (reference/research/research_reference.py) and builds its Pre-LN Llama-style
 * stack (RMSNorm, RoPE half pairing, GQA, SwiGLU, final norm, untied head) from the stored weights.
 */
public final class ResearchFixture {
    public final JsonObject json;
    public final DecoderStack stack;
    public final OutputHead head;
    public final int[] tokens;
    public final int[] corrupt;
    public final int layers, hidden, vocab, heads;
    private final JsonObject weights;

    private ResearchFixture(JsonObject json) {
        this.json = json;
        this.weights = json.getAsJsonObject("weights");
        JsonObject c = json.getAsJsonObject("config");
        layers = c.get("layers").getAsInt();
        hidden = c.get("hidden").getAsInt();
        vocab = c.get("vocab").getAsInt();
        heads = c.get("heads").getAsInt();
        float eps = c.get("eps").getAsFloat();
        AttentionConfig ac = AttentionConfig.builder(hidden, heads, 64).kvHeads(c.get("kv_heads").getAsInt())
                .headDim(c.get("head_dim").getAsInt()).rope(RopeConfig.of(c.get("theta").getAsDouble())).build();
        List<TransformerBlock> blocks = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            String p = "layers." + l + ".";
            Attention a = new Attention(ac, lin(p + "q"), lin(p + "k"), lin(p + "v"), lin(p + "o"));
            blocks.add(new TransformerBlock(BlockConfig.of(ac, NormPlacement.PRE), new RmsNorm(w(p + "attn_in"), eps),
                    a, null, new RmsNorm(w(p + "ffn_in"), eps), GatedMlp.swiGlu(lin(p + "gate"), lin(p + "up"),
                    lin(p + "down")), null));
        }
        stack = new DecoderStack(new Embedding(w("embed")), null, null, blocks, new RmsNorm(w("final_norm"), eps));
        head = new OutputHead(lin("head"));
        tokens = JsonArrays.ints(json.getAsJsonArray("tokens"));
        corrupt = JsonArrays.ints(json.getAsJsonArray("corrupt"));
    }

    /** The fixture (parsed once per call; tests keep it in a static field). */
    public static ResearchFixture load() {
        return new ResearchFixture(Golden.resource("research/research.json", ""));
    }

    /** Weight {@code name} as an F32 tensor. */
    public Tensor w(String name) {
        return tensor(weights.getAsJsonObject(name));
    }

    private Linear lin(String name) {
        return new Linear(w(name));
    }

    /** A {shape, data} object as an F32 tensor. */
    public static Tensor tensor(JsonObject t) {
        return Golden.tensor(t);
    }

    /** A {shape, data} object's data in float64. */
    public static double[] doubles(JsonElement t) {
        return Golden.doubles(t.getAsJsonObject());
    }

    /** max |a − b| (NaN if either holds NaN, so a tolerance check fails). */
    public static double maxAbs(float[] a, double[] b) {
        return Runs.maxAbs(a, b);
    }

    /** max |a − b| over floats. */
    public static double maxAbs(float[] a, float[] b) {
        return Runs.maxAbs(a, b);
    }

    /**
     * Outputs [T, d] of a runner over tokens fed in chunks of the schedule's sizes (chunks of 1 = decode), against
     * one session the step function closes over.
     */
    public static float[] run(int[] tokens, int[] schedule, int d, Function<int[], Tensor> step) {
        return Runs.chunked(schedule, d, (past, c) -> step.apply(Arrays.copyOfRange(tokens, past, past + c)));
    }
}
