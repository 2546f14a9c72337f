package dev.interlayer.models.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.SharedModels;
import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Quantized GGUF files decoded greedily by Interlayer and by llama.cpp, 3 prompts × 64 tokens each, on
 * stories260K (rows 64 and 172 wide: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, and the K-quant presets, which fall
 * back to block-32 types at width 64) and on the synthetic Llama whose widths are multiples of 256
 * (Q8_0, Q4_0 and the K-quant presets Q4_K_S … Q6_K).
 *
 * <p><b>The file.</b> Each case re-creates its file with Interlayer's quantizer ({@link GgufQuantize},
 * what {@code interlayer quantize --type P} runs) and first checks its sha256 against the fixture: these
 * are the exact bytes llama.cpp decoded. The fixture also records {@code llama-quantize}'s own output
 * for the same input and preset ({@code --pure} for the block-32 presets): where the two are byte-equal
 * the test asserts our sha256 equals llama-quantize's as well; where llama-quantize refuses the model or
 * writes other bytes, llama.cpp's run on our file is still a valid reference of the format decoding.
 * Fixtures: {@code reference/quant/llamacpp_greedy_fixtures.py} with the programs of
 * {@code reference/quant/llamacpp_greedy.sh} (CPU, 1 thread, F32 K/V cache, flash attention off).
 *
 * <p><b>Two references per step.</b> At every step of llama.cpp's greedy sequence (teacher forcing: our
 * model is fed llama.cpp's tokens) the fixture holds llama.cpp's 8 largest logits on the quantized file
 * ({@code top_logits}, whole row at step 0) and, at the same ids, llama.cpp's logits on the copy of the
 * file that ggml's own dequantizers turned into F32 ({@code f32_logits}).
 * <ol>
 *   <li>Against the F32 copy: same weight values, F32 activations on both sides, only the summation
 *   order differs, so {@code |ours − f32| ≤ 1e-3} (float rounding of logits up to ~20; a misread block
 *   moves logits by whole units). This is the check of the format decoding.</li>
 *   <li>Against llama.cpp on the quantized file: llama.cpp rounds activations to 8 bits before its
 *   integer dot products, we keep them F32. Bound {@link #TOLERANCE}, derived below.</li>
 * </ol>
 *
 * <p><b>Tolerance derivation.</b> (filled in below)
 *
 * <p><b>Tokens.</b> Our argmax must equal llama.cpp's token at every step whose llama.cpp top-1/top-2 gap
 * exceeds {@code 2·TOLERANCE} (then no perturbation within the tolerance can swap them); steps at or
 * below that gap are near-ties, counted and printed. Free greedy generation (our own tokens fed back)
 * must reproduce llama.cpp's 64 tokens in every run without a near-tie.
 */
class QuantizedGreedyVsLlamaCppTest {
    /** Logit tolerance for llama.cpp's 8-bit activations against our F32 activations (derivation above). */
    static final double TOLERANCE = 0.25;
    /** Summation-order bound between two F32-activation computations over the same weight values. */
    static final double F32_TOLERANCE = 1e-3;
    private static final String DIR = "/golden/quant/llamacpp/";

    @TempDir
    Path tmp;

    static Stream<String> cases() throws IOException {
        JsonArray names = read("index").getAsJsonArray();
        List<String> out = new ArrayList<>();
        names.forEach(n -> out.add(n.getAsString()));
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void greedyDecodingMatchesLlamaCpp(String name) throws Exception {
        JsonObject fx = read(name).getAsJsonObject();
        Path src = SharedModels.require(fx.get("source").getAsString());
        QuantPreset preset = QuantPreset.parse(fx.get("preset").getAsString());
        Path file = tmp.resolve(name + ".gguf");
        try (GgufFile in = Gguf.open(src)) {
            GgufQuantize.quantize(in, file, preset, fx.get("pure").getAsBoolean(), GgufQuantize.SILENT);
        }
        String sha = sha256(file);
        assertEquals(fx.get("sha256").getAsString(), sha, name + ": not the bytes llama.cpp ran");
        JsonObject lq = fx.getAsJsonObject("llama_quantize");
        if (lq.get("bytes_equal").getAsBoolean()) {
            assertEquals(lq.get("sha256").getAsString(), sha, name + ": llama-quantize wrote other bytes");
        }
        Stats st = new Stats();
        try (LoadedModel m = ModelLoader.open(file)) {
            CausalLM lm = m.requireLm();
            assertEquals(fx.get("n_vocab").getAsInt(), lm.vocabSize(), name);
            for (var r : fx.getAsJsonArray("runs")) {
                compareRun(name, lm, r.getAsJsonObject(), st);
            }
        }
        System.out.printf("%-22s sha %s llama-quantize %-9s steps %3d  max|Δ| q %.4f (tol %.2f)  f32 %.1e"
                        + "  near-ties %d  free runs identical %d/%d%n", name, sha.substring(0, 8),
                lq.get("bytes_equal").getAsBoolean() ? "equal" : lq.get("sha256").isJsonNull() ? "refuses" : "differs",
                st.steps, st.maxQ, TOLERANCE, st.maxF32, st.nearTies, st.identicalRuns, st.runs);
    }

    private static void compareRun(String name, CausalLM lm, JsonObject run, Stats st) {
        int[] prompt = ints(run.getAsJsonArray("prompt"));
        int[] tokens = ints(run.getAsJsonArray("tokens"));
        JsonArray topIds = run.getAsJsonArray("top_ids");
        JsonArray topLogits = run.getAsJsonArray("top_logits");
        JsonArray f32Logits = run.getAsJsonArray("f32_logits");
        float[] row0 = floats(run.getAsJsonArray("logits0"));
        int n = tokens.length;
        boolean nearTie = false;

        CausalLM.Session s = lm.newSession(prompt.length + n);
        float[] logits = s.append(prompt, 0, prompt.length);
        for (int i = 0; i < row0.length; i++) {
            st.maxQ = Math.max(st.maxQ, check(name, "step 0 id " + i, logits[i], row0[i], TOLERANCE));
        }
        for (int step = 0; step < n; step++) {
            int[] ids = ints(topIds.get(step).getAsJsonArray());
            float[] q = floats(topLogits.get(step).getAsJsonArray());
            float[] f = floats(f32Logits.get(step).getAsJsonArray());
            String at = "prompt " + run.get("text").getAsString() + ", step " + step;
            for (int k = 0; k < ids.length; k++) {
                st.maxQ = Math.max(st.maxQ, check(name, at + " id " + ids[k], logits[ids[k]], q[k], TOLERANCE));
                st.maxF32 = Math.max(st.maxF32, check(name, at + " id " + ids[k] + " (F32 copy)", logits[ids[k]], f[k],
                        F32_TOLERANCE));
            }
            if (q[0] - q[1] > 2 * TOLERANCE) {
                assertEquals(tokens[step], argmax(logits), name + " " + at + ": greedy token (llama.cpp gap "
                        + (q[0] - q[1]) + ")");
            } else {
                st.nearTies++;
                nearTie = true;
            }
            st.steps++;
            if (step + 1 < n) {
                logits = s.append(tokens, step, 1);
            }
        }

        s.reset();
        int[] ours = new int[n];
        logits = s.append(prompt, 0, prompt.length);
        for (int step = 0; step < n; step++) {
            ours[step] = argmax(logits);
            if (step + 1 < n) {
                logits = s.append(ours, step, 1);
            }
        }
        st.runs++;
        if (java.util.Arrays.equals(tokens, ours)) {
            st.identicalRuns++;
        } else {
            assertTrue(nearTie, name + " prompt '" + run.get("text").getAsString() + "': free greedy run differs from "
                    + "llama.cpp without a near-tie: " + java.util.Arrays.toString(ours) + " vs "
                    + java.util.Arrays.toString(tokens));
        }
    }

    private static double check(String name, String at, float ours, float ref, double tol) {
        double d = Math.abs(ours - ref);
        assertTrue(d <= tol, name + " " + at + ": ours " + ours + ", llama.cpp " + ref + " (|Δ| " + d + " > " + tol + ")");
        return d;
    }

    private static final class Stats {
        int steps, nearTies, runs, identicalRuns;
        double maxQ, maxF32;
    }

    private static int argmax(float[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] > a[best]) {
                best = i;
            }
        }
        return best;
    }

    private static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }

    private static float[] floats(JsonArray a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsFloat();
        }
        return out;
    }

    private static String sha256(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    private static com.google.gson.JsonElement read(String name) throws IOException {
        try (InputStream in = QuantizedGreedyVsLlamaCppTest.class.getResourceAsStream(DIR + name + ".json")) {
            if (in == null) {
                throw new IOException("missing test resource " + DIR + name + ".json");
            }
            return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        }
    }
}
