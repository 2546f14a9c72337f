package dev.interlayer.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import org.junit.jupiter.api.Test;

/**
 * {@code --kv-type} on generate and serve: bad values and models Q8_0 cannot block are refused with one line
 * naming the flag; F16 and Q8_0 caches generate. The greedy continuation with an F16 or Q8_0 cache is compared
 * with the F32 one on the same model: the cache error (2⁻¹¹ relative for F16, amax/254 per block for Q8_0) is
 * far below the logit gaps of these 8 greedy steps, so the tokens agree (a wrong cache row would not).
 */
class KvTypeCliTest {
    private static LlamaCliTest.Run run(String... args) {
        return LlamaCliTest.run(args);
    }

    private static String model(String rel) {
        return SharedModels.require(rel).toString();
    }

    @Test
    void badValuesAreRefusedNamingTheFlag() {
        String stories = model("stories260K/stories260K.gguf");
        for (String cmd : new String[] {"generate", "serve"}) {
            LlamaCliTest.Run r = cmd.equals("generate")
                    ? run(cmd, "--model", stories, "--prompt", "hi", "--kv-type", "q4_0")
                    : run(cmd, "--model", stories, "--kv-type", "q4_0");
            assertEquals(Main.EXIT_USAGE, r.code(), r.err());
            assertTrue(r.err().contains("--kv-type must be one of f32, f16, q8_0, got q4_0"), r.err());
        }
        // stories260K has head dim 8: Q8_0 blocks of 32 along the head dimension do not fit
        LlamaCliTest.Run r = run("generate", "--model", stories, "--tokens", "1,403", "--kv-type", "q8_0",
                "--max-tokens", "2");
        assertTrue(r.code() != 0 && r.err().contains("--kv-type q8_0") && r.err().contains("head dim 8"), r.err());
    }

    @Test
    void f16AndQ8GenerateTheF32GreedyTokens() {
        String stories = model("stories260K/stories260K.gguf");
        String synth = model("synthetic/synth-llama-256-f32.gguf");   // head dim 32
        String[][] cases = {{stories, "f16"}, {synth, "f16"}, {synth, "q8_0"}};
        for (String[] c : cases) {
            String f32 = greedy(c[0], "f32"), typed = greedy(c[0], c[1]);
            assertEquals(f32, typed, c[0] + " with --kv-type " + c[1]);
        }
    }

    /** A plan and self-speculative decoding take the cache type too: same greedy tokens as plain F32 decoding. */
    @Test
    void planAndDraftLayersWithATypedCache() {
        String synth = model("synthetic/synth-llama-256-f32.gguf");
        String want = greedy(synth, "f32");
        for (String[] extra : new String[][] {{"--plan", "0,1"}, {"--draft-layers", "1"}}) {
            LlamaCliTest.Run r = run("generate", "--model", synth, "--tokens", "1,403,407,261,378", "--temperature",
                    "0", "--max-tokens", "8", "--threads", "1", "--kv-type", "q8_0", extra[0], extra[1]);
            assertEquals(0, r.code(), r.err());
            assertTrue(!r.out().isBlank(), String.join(" ", extra));
            if (extra[0].equals("--draft-layers")) {   // the full model verifies every token: plain greedy output
                assertEquals(want.strip(), r.out().strip(), "--draft-layers 1 with --kv-type q8_0");
            }
        }
    }

    private static String greedy(String model, String kv) {
        LlamaCliTest.Run r = run("generate", "--model", model, "--tokens", "1,403,407,261,378", "--temperature", "0",
                "--max-tokens", "8", "--threads", "1", "--kv-type", kv);
        assertEquals(0, r.code(), r.err());
        assertTrue(!r.out().isBlank(), "no output with --kv-type " + kv);
        return r.out();
    }
}
