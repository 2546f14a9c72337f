package dev.interlayer.models.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.SharedModels;
import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.generate.Sampler;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import dev.interlayer.tensor.testing.JsonArrays;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Quantized GGUF files decoded greedily by Interlayer and by llama.cpp, 3 prompts × 64 tokens each, on
 * stories260K (rows 64 and 172 wide: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, and the K-quant presets Q4_K_M, Q5_K_M,
 * Q6_K, Q3_K_M, which fall back to Q5_0/Q5_1/Q8_0/Q4_0 at width 64; the 172-wide ffn_down is F16 in every
 * file) and on the synthetic Llama whose widths are multiples of 256 (Q8_0, Q4_0, Q4_K_S, Q4_K_M, Q5_K_S,
 * Q5_K_M, Q6_K, Q2_K, Q3_K_S, Q3_K_M, Q3_K_L).
 *
 * <p><b>The file.</b> Each case re-creates its file with Interlayer's quantizer ({@link GgufQuantize},
 * what {@code interlayer quantize --type P} runs; {@code --pure} for the block-32 presets, the fixture's
 * {@code pure}) and first checks its sha256 against the fixture: these are the exact bytes llama.cpp
 * decoded. The fixture also records what {@code llama-quantize} writes for the same input and preset
 * (also {@code --pure} for the block-32 presets):
 * where it is byte-equal the test asserts that too; llama-quantize refuses stories260K in the block-32
 * types (no fallback for the 172-wide ffn_down), and llama.cpp's run on our file is then the reference of
 * the format decoding. Fixtures: {@code reference/quant/llamacpp_greedy_fixtures.py} with the programs
 * of {@code reference/quant/llamacpp_greedy.sh} (CPU, 1 thread, F32 K/V cache, flash attention off).
 *
 * <p><b>Two llama.cpp references per step.</b> Along llama.cpp's greedy sequence (teacher forcing: we
 * are fed llama.cpp's tokens) the fixture holds llama.cpp's 8 largest logits on the quantized file
 * ({@code top_logits}, the whole row at step 0) and, at the same ids, llama.cpp's logits on the copy of
 * the file that ggml's own dequantizers turned into F32 ({@code f32_logits}), plus that copy's free
 * greedy run.
 * <ol>
 *   <li>Against the F32 copy: the same weight values and F32 activations on both sides, only summation
 *   order differs, so {@code |ours − f32| ≤ 1e-3} (float rounding of logits up to ~25; a misread block
 *   moves logits by whole units). This is the check of the format decoding.</li>
 *   <li>Against the quantized file, within the activation-rounding tolerance derived next.</li>
 * </ol>
 *
 * <p><b>Tolerance.</b> For a quantized weight llama.cpp's CPU backend first rounds the activation vector
 * x to the weight's dot-product type, then multiplies integers: Q8_0 (blocks of 32, scale
 * {@code d = max|x_b|/127} stored as f16; Q8_0/Q4_0/Q5_0 weights), Q8_1 (the same with block sums;
 * Q4_1/Q5_1), Q8_K (blocks of 256, f32 scale; K-quants), or F16 for F16 weights. Each rounded activation
 * is off by at most {@code (1/2 + 127·2⁻¹¹)·d} = {@link #ROUNDING}{@code ·max|x_b|} (half a step, plus
 * the f16 rounding of d times the largest code; Q8_K: half a step; F16: 2⁻¹¹|x|). We keep x in F32. So
 * both engines compute the same network, llama.cpp's with every product's output perturbed by at most
 * ROUNDING relative to its inputs' block maxima. A token's logits pass M = 7L + 1 such products (q, k,
 * v, o, gate, up, down per layer and the head); to first order, with each adding at most ROUNDING
 * relative to the logit scale, the logits move by at most {@code ROUNDING·M·max|z|}: 0.16·max|z| on
 * stories260K (L = 5), 0.066·max|z| on the synthetic model (L = 2). The test asserts llama.cpp's measured
 * effect stays below this bound (ratio ≤ 0.65 measured), and uses it as the tolerance of the whole first
 * logit row. It is too loose to decide tokens (about 3.5 logits on stories260K), and the random-walk
 * estimate with √M in place of M is no bound (the synthetic model, whose output and q/k gains were raised,
 * exceeds it). The per-step tolerance is therefore what llama.cpp's rounding actually did:
 * {@code A_s = max |llama.cpp(quantized) − llama.cpp(F32 copy)|} over the step's 8 ids, and since ours
 * equals the F32 copy within 1e-3, {@code |ours − llama.cpp(quantized)| ≤ tol_s = A_s + 1e-3} (A_s up to
 * 0.21 on stories260K and 0.52 on the synthetic model).
 *
 * <p><b>Tokens.</b> Against the F32 copy: our argmax equals its argmax at every step where its top-1/top-2
 * gap exceeds 2e-3, and our free greedy run equals its free run unless that run had such a near-tie.
 * Against the quantized file: our argmax equals llama.cpp's token wherever its gap exceeds
 * {@code 2·tol_s} (no perturbation within the tolerance can swap the two); smaller gaps are near-ties,
 * counted and printed, as are the steps where llama.cpp's activation rounding changed its own greedy token
 * (its argmax on the file differs from its argmax on the F32 copy: no F32-activation engine can agree
 * there). Free runs against the quantized file are printed, and asserted equal when no near-tie occurred.
 *
 * <p>Measured with the committed fixtures (logits stored to 6 significant digits): ours vs the F32 copy
 * ≤ 6.2e-5 on every file (≤ 2.6e-5 before that rounding), our free runs equal
 * the F32 copy's in all 60; llama.cpp's rounding changes its own greedy token at 0–15 of the 192 steps of
 * a file (0–7 on stories260K), 13–51 steps are near-ties, and free runs equal llama.cpp's on the
 * quantized file in 16 of 27 on stories260K and 3 of 33 on the synthetic model (each difference after a
 * near-tie).
 */
class QuantizedGreedyVsLlamaCppTest {
    /** Largest rounding of one activation relative to its block's largest magnitude: (1/2 + 127·2⁻¹¹)/127. */
    static final double ROUNDING = (0.5 + 127 * 0x1p-11) / 127;
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
        int products;                             // quantized products a token passes: 7 per layer + the head
        try (GgufFile in = Gguf.open(src)) {
            GgufQuantize.quantize(in, file, preset, fx.get("pure").getAsBoolean(), GgufQuantize.SILENT);
            products = 7 * in.getInt("llama.block_count", 0) + 1;
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
                compareRun(name, lm, products, r.getAsJsonObject(), st);
            }
        }
        // | file | sha | llama-quantize | steps | max|Δ| vs quantized | max tol_s | max|Δ| vs F32 copy |
        //   A_s / bound | near-ties | llama.cpp flips | free runs = llama.cpp | free runs = F32 copy |
        System.out.printf("| %s | %s | %s | %d | %.4f | %.4f | %.1e | %.2f | %d | %d | %d/%d | %d/%d |%n", name,
                sha.substring(0, 12),
                lq.get("bytes_equal").getAsBoolean() ? "equal" : lq.get("sha256").isJsonNull() ? "refuses" : "differs",
                st.steps, st.maxQ, st.maxTol, st.maxF32, st.maxEffectRatio, st.nearTies, st.flips, st.identicalRuns,
                st.runs, st.identicalF32Runs, st.runs);
    }

    private static void compareRun(String name, CausalLM lm, int products, JsonObject run, Stats st) {
        int[] prompt = JsonArrays.ints(run.getAsJsonArray("prompt"));
        int[] tokens = JsonArrays.ints(run.getAsJsonArray("tokens"));
        JsonArray topIds = run.getAsJsonArray("top_ids");
        JsonArray topLogits = run.getAsJsonArray("top_logits");
        JsonArray f32Logits = run.getAsJsonArray("f32_logits");
        float[] row0 = JsonArrays.floats(run.getAsJsonArray("logits0"));
        int n = tokens.length;
        String text = "'" + run.get("text").getAsString() + "'";
        boolean nearTie = false;

        CausalLM.Session s = lm.newSession(prompt.length + n);
        float[] logits = s.append(prompt, 0, prompt.length);
        float[] row0Ours = logits.clone();
        for (int step = 0; step < n; step++) {
            int[] ids = JsonArrays.ints(topIds.get(step).getAsJsonArray());
            float[] q = JsonArrays.floats(topLogits.get(step).getAsJsonArray());
            float[] f = JsonArrays.floats(f32Logits.get(step).getAsJsonArray());
            String at = text + " step " + step;
            double effect = 0, zmax = 0;          // A_s: llama.cpp's own activation-quantization effect
            for (int k = 0; k < ids.length; k++) {
                effect = Math.max(effect, Math.abs(q[k] - f[k]));
                zmax = Math.max(zmax, Math.abs(q[k]));
            }
            double bound = ROUNDING * products * zmax;
            assertTrue(effect <= bound, name + " " + at + ": llama.cpp's activation rounding moved a logit by " + effect
                    + ", more than the first-order bound " + bound);
            st.maxEffectRatio = Math.max(st.maxEffectRatio, effect / bound);
            double tol = effect + F32_TOLERANCE;
            st.maxTol = Math.max(st.maxTol, tol);
            for (int k = 0; k < ids.length; k++) {
                st.maxF32 = Math.max(st.maxF32, check(name, at + " id " + ids[k] + " vs llama.cpp on the F32 copy",
                        logits[ids[k]], f[k], F32_TOLERANCE));
                st.maxQ = Math.max(st.maxQ, check(name, at + " id " + ids[k], logits[ids[k]], q[k], tol));
            }
            int ours = Sampler.Greedy.argmax(logits);
            int f32Best = argmaxOf(ids, f);
            if (gap(f, f32Best) > 2 * F32_TOLERANCE) {
                assertEquals(ids[f32Best], ours, name + " " + at + ": greedy token vs llama.cpp on the F32 copy");
            }
            if (ids[f32Best] != tokens[step]) {
                st.flips++;                       // llama.cpp's activation rounding changed its own choice
            }
            if (q[0] - q[1] > 2 * tol) {
                assertEquals(tokens[step], ours, name + " " + at + ": greedy token (llama.cpp gap " + (q[0] - q[1]) + ")");
            } else {
                st.nearTies++;
                nearTie = true;
            }
            st.steps++;
            if (step + 1 < n) {
                logits = s.append(tokens, step, 1);
            }
        }
        double rowBound = 0;                      // the whole first row, against the first-order bound
        for (float z : row0) {
            rowBound = Math.max(rowBound, ROUNDING * products * Math.abs(z));
        }
        for (int i = 0; i < row0.length; i++) {
            check(name, text + " step 0 id " + i + " (first-order bound)", row0Ours[i], row0[i], rowBound);
        }

        s.reset();
        int[] ours = new int[n];
        logits = s.append(prompt, 0, prompt.length);
        for (int step = 0; step < n; step++) {
            ours[step] = Sampler.Greedy.argmax(logits);
            if (step + 1 < n) {
                logits = s.append(ours, step, 1);
            }
        }
        st.runs++;
        int[] f32Tokens = JsonArrays.ints(run.getAsJsonArray("f32_tokens"));
        if (run.get("f32_min_gap").getAsDouble() > 2 * F32_TOLERANCE) {
            assertArrayEquals(f32Tokens, ours, name + " prompt " + text + ": free greedy run vs llama.cpp on the F32 copy");
        }
        if (Arrays.equals(f32Tokens, ours)) {
            st.identicalF32Runs++;
        }
        if (Arrays.equals(tokens, ours)) {
            st.identicalRuns++;
        } else {
            assertTrue(nearTie, name + " prompt " + text + ": free greedy run differs from llama.cpp without a near-tie: "
                    + Arrays.toString(ours) + " vs " + Arrays.toString(tokens));
        }
    }

    /** Index in {@code v} of its largest value (first on ties). */
    private static int argmaxOf(int[] ids, float[] v) {
        int best = 0;
        for (int k = 1; k < v.length; k++) {
            if (v[k] > v[best] || v[k] == v[best] && ids[k] < ids[best]) {
                best = k;
            }
        }
        return best;
    }

    /** Distance from the largest value, at index best, to the second largest. */
    private static double gap(float[] v, int best) {
        double second = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < v.length; k++) {
            if (k != best) {
                second = Math.max(second, v[k]);
            }
        }
        return v[best] - second;
    }

    private static double check(String name, String at, float ours, float ref, double tol) {
        double d = Math.abs(ours - ref);
        assertTrue(d <= tol, name + " " + at + ": ours " + ours + ", llama.cpp " + ref + " (|Δ| " + d + " > " + tol + ")");
        return d;
    }

    private static final class Stats {
        int steps, nearTies, flips, runs, identicalRuns, identicalF32Runs;
        double maxQ, maxF32, maxTol, maxEffectRatio;
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
