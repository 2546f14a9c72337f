package dev.interlayer.models.cli;

import static dev.interlayer.models.cli.LlamaCliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import dev.interlayer.models.SharedModels;
import dev.interlayer.models.cli.LlamaCliTest.Run;
import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import dev.interlayer.nn.plan.ExecutionPlan;
import dev.interlayer.nn.plan.PlannedStack;
import dev.interlayer.nn.plan.SelfSpeculativeDecoder;
import org.junit.jupiter.api.Test;

/**
 * The plan path (`--draft-layers`, `--plan`) and the logit lens on every decoder family's synthetic checkpoint
 * (Llama, Mixtral, Qwen2-MoE, Gemma 2, GPT-2): the family code only supplies the stack and head, so the
 * self-speculative and identity-plan greedy outputs equal the plain generator's, and the lens's last row equals the
 * argmax of the `logits` command.
 */
class ResearchFamiliesCliTest {
    private static final String[] MODELS = {"synth-llama-256-f32.gguf", "synth-mixtral-moe-f32.gguf",
        "synth-qwen2moe-f32.gguf", "synth-gemma2-f32.gguf", "synth-gpt2-f32.gguf"};
    private static final String TOKENS = "1,5,9,2,7,3";   // as `prompt` below

    // Token ids, not text: the synthetic tokenizers map many ids to the same text.
    @Test
    void planPathsEqualPlainGreedyOnEveryFamily() throws Exception {
        int[] prompt = {1, 5, 9, 2, 7, 3};
        for (String f : MODELS) {
            java.nio.file.Path path = SharedModels.require("synthetic/" + f);
            try (LoadedModel loaded = ModelLoader.open(path)) {
                DecoderLM lm = (DecoderLM) loaded.lm();
                int layers = lm.stack().layers();
                int[] want = greedy(lm, prompt, 12);
                PlannedStack identity = new PlannedStack(lm.stack(), ExecutionPlan.identity(layers));
                assertArrayEquals(want, greedy(new PlannedLM(identity, lm.outputHead(), lm.contextLength()), prompt,
                        12), f + " identity plan");
                for (int e : new int[] {1, layers}) {
                    int[] got = new SelfSpeculativeDecoder(identity, lm.outputHead(), e, 3, 64, 16)
                            .generate(prompt, 12, -1).tokens();
                    assertArrayEquals(want, got, f + " draft depth " + e);
                }
                // and the CLI wires the same paths
                assertEquals(generate(path.toString()).out(),
                        generate(path.toString(), "--draft-layers", "1").out(), f);
            }
        }
    }

    // Plain greedy ids from a CausalLM session (no eos stop).
    private static int[] greedy(CausalLM lm, int[] prompt, int n) {
        CausalLM.Session s = lm.newSession(prompt.length + n);
        float[] logits = s.append(prompt, 0, prompt.length);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int v = 1; v < logits.length; v++) {
                best = logits[v] > logits[best] ? v : best;
            }
            out[i] = best;
            if (i + 1 < n) {
                logits = s.append(new int[] {best}, 0, 1);
            }
        }
        return out;
    }

    @Test
    void lensLastRowIsTheModelsPredictionOnEveryFamily() {
        for (String f : MODELS) {
            String model = SharedModels.require("synthetic/" + f).toString();
            Run r = run("lens", "--model", model, "--tokens", TOKENS, "--json");
            assertEquals(0, r.code(), f + ": " + r.err());
            JsonArray lens = JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonArray("lens");
            JsonArray logits = JsonParser.parseString(run("logits", "--model", model, "--tokens", TOKENS, "--json")
                    .out()).getAsJsonObject().getAsJsonArray("logits");
            JsonArray last = lens.get(lens.size() - 1).getAsJsonArray();
            for (int p = 0; p < logits.size(); p++) {
                JsonArray row = logits.get(p).getAsJsonArray();
                int best = 0;
                for (int v = 1; v < row.size(); v++) {
                    best = row.get(v).getAsDouble() > row.get(best).getAsDouble() ? v : best;
                }
                assertEquals(best, last.get(p).getAsJsonObject().get("token").getAsInt(), f + " position " + p);
            }
        }
    }

    private static Run generate(String model, String... extra) {
        String[] base = {"generate", "--model", model, "--tokens", TOKENS, "--temperature", "0", "--max-tokens", "12",
            "--threads", "1"};
        String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        Run r = run(args);
        assertEquals(0, r.code(), model + ": " + r.err());
        return r;
    }
}
