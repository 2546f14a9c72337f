package dev.interlayer.models.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.HfFolder;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.load.Fixture;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Sliding-window attention with a rolling KV ring, against reference/arch/arch_reference.py --extras (PyTorch
 * float64 from the equations, HF mask: key j visible to query i iff i − w &lt; j ≤ i):
 * mistral-window (w = 5 on both layers; also as GGUF with {@code llama.attention.sliding_window} = 5) and
 * qwen2-window (use_sliding_window, max_window_layers 1: layer 0 full, layers 1-2 windowed), 17-token input.
 *
 * <p>Tolerance 1e-4 absolute, as ArchGoldenTest: float32 Java vs float64 reference on logits ≲ 10 with d = 32
 * (float32 rounding ~1e-6 relative). The fixture's "full_logits" (same weights, no window) differ from the
 * windowed ones by > 1 after position 5, so any off-by-one in the window or a stale ring slot fails by far more.
 */
class SlidingWindowTest {
    static final float TOL = 1e-4f;

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mistral-window", "qwen2-window"})
    void hfMatchesPyTorchInPrefillChunksAndDecode(String name) throws Exception {
        try (HfFolder f = HfFolder.open(Fixture.resource("hf/" + name))) {
            LlamaModel m = LlamaModel.load(f);
            assertEquals(64, m.contextLength(), "context stays max_position_embeddings");
            check(name + " hf", m);
        }
    }

    @Test
    void ggufSlidingWindowKeyIsHonoured() throws Exception {
        try (GgufFile g = Gguf.open(Fixture.resource("gguf/mistral-window.gguf"))) {
            LlamaModel m = LlamaModel.load(g);
            assertEquals(5, m.config().windowOf(0));
            assertEquals(5, m.config().windowOf(1));
            check("mistral-window gguf", m);
        }
    }

    private static void check(String what, LlamaModel m) throws Exception {
        String name = what.substring(0, what.indexOf(' '));
        JsonObject g = Fixture.golden(name);
        float[] want = Fixture.matrix(g, "logits");
        float moved = Fixture.maxAbsDiff(want, Fixture.matrix(g, "full_logits"));
        assertTrue(moved > 1e-2f, "fixture: the window changes nothing (" + moved + ")");
        int[] tokens = Fixture.ints(g, "tokens");
        int n = tokens.length, vocab = m.vocabSize();
        float[] errs = new float[6];
        errs[0] = Fixture.maxAbsDiff(m.newSession(n).appendAll(tokens, 0, n), want);          // one chunk
        errs[1] = Fixture.maxAbsDiff(m.newSession(n, 3).appendAll(tokens, 0, n), want);       // ring of 7
        errs[2] = Fixture.maxAbsDiff(m.newSession(n, 7).appendAll(tokens, 0, n), want);       // ring of 11
        DecoderLM.Session ring = m.newSession(m.contextLength(), 1);                              // ring of 6
        errs[3] = Fixture.maxAbsDiff(TinyGolden.decodeAll(ring, tokens, vocab), want);
        // prefill 7 tokens in chunks of 3, then decode the rest one by one through the same ring
        DecoderLM.Session mixed = m.newSession(m.contextLength(), 3);
        float[] got = new float[n * vocab];
        System.arraycopy(mixed.appendAll(tokens, 0, 7), 0, got, 0, 7 * vocab);
        for (int t = 7; t < n; t++) {
            System.arraycopy(mixed.append(tokens, t, 1), 0, got, t * vocab, vocab);
        }
        errs[4] = Fixture.maxAbsDiff(got, want);
        int[] one = Fixture.ints(g, "tokens1");
        errs[5] = Fixture.maxAbsDiff(m.newSession(1).append(one, 0, 1), Fixture.matrix(g, "logits1"));
        float hidden = Fixture.maxAbsDiff(m.hiddenStates(tokens), Fixture.matrix(g, "hidden"));
        System.out.printf("%s vs pytorch: prefill %.3g chunk3 %.3g chunk7 %.3g decode %.3g chunk3+decode %.3g "
                + "1-token %.3g hidden %.3g%n", what, errs[0], errs[1], errs[2], errs[3], errs[4], errs[5], hidden);
        for (int i = 0; i < errs.length; i++) {
            assertTrue(errs[i] <= TOL, what + " case " + i + " differs by " + errs[i]);
        }
        assertTrue(hidden <= TOL, what + " hidden differs by " + hidden);
        // memory: windowed layers hold w + chunk slots (nn.KvCache's ring), full layers the whole session
        for (int l = 0; l < m.config().layers(); l++) {
            int w = m.config().windowOf(l);
            assertEquals(w > 0 ? w + 1 : m.contextLength(), ring.cacheSlots(l), "layer " + l + " slots");
            assertEquals(w > 0 ? w + 3 : m.contextLength(), mixed.cacheSlots(l), "layer " + l + " slots");
        }
    }

    @Test
    void truncateWorksWhileTheRingHoldsTheWindow() throws Exception {
        try (HfFolder f = HfFolder.open(Fixture.resource("hf/mistral-window"))) {
            LlamaModel m = LlamaModel.load(f);
            JsonObject g = Fixture.golden("mistral-window");
            float[] want = Fixture.matrix(g, "logits");
            int[] tokens = Fixture.ints(g, "tokens");
            int n = tokens.length, vocab = m.vocabSize();
            // chunk 7: ring of 12 slots; after 17 tokens it holds positions 5..16. Position 10 needs 6..9: kept.
            DecoderLM.Session s = m.newSession(n, 7);
            s.append(tokens, 0, n);
            s.truncate(10);
            assertEquals(10, s.position());
            float[] again = s.appendAll(tokens, 10, n - 10);
            float err = Fixture.maxAbsDiff(again, Arrays.copyOfRange(want, 10 * vocab, n * vocab));
            System.out.printf("mistral-window truncate(10) + re-feed vs pytorch: %.3g%n", err);
            assertTrue(err <= TOL, "after truncate: " + err);
            // position 8 would need 4..7, but position 4 was overwritten by 16
            var e = assertThrows(IllegalStateException.class, () -> s.truncate(8));
            assertTrue(e.getMessage().contains("needs positions from 4"), e.getMessage());
            assertEquals(n, s.position(), "a refused truncate leaves the session as it was");
            assertThrows(IllegalArgumentException.class, () -> s.truncate(n + 1));
            // decode ring of 6 slots: truncate(16) keeps 11..15, re-feeding token 16 reproduces its logits
            DecoderLM.Session d = m.newSession(n, 1);
            d.append(tokens, 0, n);
            d.truncate(n - 1);
            float err1 = Fixture.maxAbsDiff(d.append(tokens, n - 1, 1),
                    Arrays.copyOfRange(want, (n - 1) * vocab, n * vocab));
            assertTrue(err1 <= TOL, "decode after truncate: " + err1);
            assertThrows(IllegalStateException.class, () -> d.truncate(n - 3));   // would need position 10
            d.reset();
            assertEquals(0, d.position());
        }
    }

    /**
     * Property: with window w ≥ the session's positions nothing falls out of the window, so the windowed model
     * equals the same weights with full attention (the ring then has one slot per position and the visible range
     * starts at 0). The float ops are the same, but not bit-identical across calls: once C2 compiles the Vector
     * API kernels their reductions add lanes in another order (measured up to 1.1e-5 on logits ≲ 14), so the
     * budget is the project's F32 1e-4; dropping or adding one key moves logits by ≫ 1e-2. Seeded harness; prints
     * seed and case on failure.
     */
    @Test
    void windowNoShorterThanTheSequenceEqualsFullAttention() throws Exception {
        Path windowed = Fixture.editedHf(tmp.resolve("w"), "mistral-window",
                c -> c.addProperty("sliding_window", 0));
        Path full = Fixture.editedHf(tmp.resolve("full"), "mistral-window", c -> c.add("sliding_window",
                JsonNull.INSTANCE));
        long seed = 20251128L;
        SplittableRandom r = new SplittableRandom(seed);
        try (HfFolder wf = HfFolder.open(windowed); HfFolder ff = HfFolder.open(full)) {
            LlamaModel ref = LlamaModel.load(ff);
            assertEquals(0, ref.config().windowOf(0));
            for (int trial = 0; trial < 25; trial++) {
                int n = r.nextInt(1, 25), w = r.nextInt(n, 40), chunk = r.nextInt(1, n + 3);
                int[] tokens = r.ints(n, 0, ref.vocabSize()).toArray();
                LlamaModel m = withWindow(LlamaModel.load(wf), w);
                float[] a = m.newSession(n, chunk).appendAll(tokens, 0, n);
                float[] b = ref.newSession(n, chunk).appendAll(tokens, 0, n);
                String ctx = "seed " + seed + " trial " + trial + ": n=" + n + " window=" + w + " chunk=" + chunk;
                float diff = Fixture.maxAbsDiff(a, b);
                assertTrue(diff <= TOL, ctx + " differs by " + diff);
            }
        }
    }

    /**
     * Property: for any window and chunk size, chunked prefill, token-by-token decode through the ring and a
     * session longer than the input agree (the ring size depends on the chunk; the results must not). Tolerance
     * 1e-4: decode (matvec) and prefill (GEMM) kernels sum in different orders, a few float32 ulps of logits ≲ 10.
     */
    @Test
    void ringResultsDoNotDependOnChunkOrCapacity() throws Exception {
        long seed = 77L;
        SplittableRandom r = new SplittableRandom(seed);
        try (HfFolder f = HfFolder.open(Fixture.resource("hf/qwen2-window"))) {
            LlamaModel base = LlamaModel.load(f);
            for (int trial = 0; trial < 12; trial++) {
                int n = r.nextInt(2, 30), w = r.nextInt(1, 9), chunk = r.nextInt(1, 10);
                int[] tokens = r.ints(n, 0, base.vocabSize()).toArray();
                LlamaModel m = withWindow(base, w);
                float[] oneChunk = m.newSession(n, n).appendAll(tokens, 0, n);
                float[] chunked = m.newSession(m.contextLength(), chunk).appendAll(tokens, 0, n);
                float[] decoded = TinyGolden.decodeAll(m.newSession(n, 1), tokens, m.vocabSize());
                float e1 = Fixture.maxAbsDiff(oneChunk, chunked), e2 = Fixture.maxAbsDiff(oneChunk, decoded);
                String ctx = "seed " + seed + " trial " + trial + ": n=" + n + " window=" + w + " chunk=" + chunk;
                assertTrue(e1 <= TOL && e2 <= TOL, ctx + ": chunked " + e1 + ", decoded " + e2);
            }
        }
    }

    @Test
    void hfWindowSemantics() throws Exception {
        // qwen2: layer_types, when given, overrides max_window_layers; without use_sliding_window there is no window
        com.google.gson.JsonArray types = new com.google.gson.JsonArray();
        types.add("sliding_attention");
        types.add("full_attention");
        types.add("sliding_attention");
        LlamaConfig byTypes = config("qwen2-window", c -> c.add("layer_types", types));
        assertEquals(java.util.Set.of(0, 2), byTypes.windowLayers());
        assertEquals(5, byTypes.windowOf(2));
        assertEquals(0, byTypes.windowOf(1));
        assertEquals(0, config("qwen2-window", c -> c.addProperty("use_sliding_window", false)).slidingWindow());
        LlamaConfig defaults = config("qwen2-window", c -> c.remove("max_window_layers"));   // HF default 28 > 3 layers
        assertTrue(defaults.windowLayers().isEmpty() && defaults.slidingWindow() == 0, defaults.toString());
        // mistral: null window (v0.2+) = full attention
        assertEquals(0, config("mistral-window", c -> c.add("sliding_window", JsonNull.INSTANCE)).slidingWindow());
        types.remove(2);
        var e = assertThrows(IllegalArgumentException.class, () -> config("qwen2-window", c -> c.add("layer_types",
                types)));
        assertTrue(e.getMessage().contains("layer_types"), e.getMessage());
    }

    @Test
    void configRejectsInconsistentWindows() throws Exception {
        LlamaConfig c = config("mistral-window", x -> { });
        var e = assertThrows(IllegalArgumentException.class, () -> new LlamaConfig(c.arch(), c.dim(), c.hiddenDim(),
                c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.vocabSize(), c.contextLength(), c.rmsNormEps(),
                c.ropeTheta(), c.ropeDim(), c.ropePairing(), c.ropeScale(), 0, 0, 0, c.ropeScaling(), false,
                c.denseHiddenDim(), java.util.Set.of(), 5, java.util.Set.of(2)));
        assertTrue(e.getMessage().contains("windowLayers"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new LlamaConfig(c.arch(), c.dim(), c.hiddenDim(),
                c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.vocabSize(), c.contextLength(), c.rmsNormEps(),
                c.ropeTheta(), c.ropeDim(), c.ropePairing(), c.ropeScale(), 0, 0, 0, c.ropeScaling(), false,
                c.denseHiddenDim(), java.util.Set.of(), 0, java.util.Set.of(1)));
        assertTrue(e.getMessage().contains("slidingWindow"), e.getMessage());
    }

    private LlamaConfig config(String name, java.util.function.Consumer<JsonObject> edit) throws Exception {
        Path p = Fixture.editedHf(tmp.resolve(name + "-" + System.nanoTime()), name, edit);
        try (HfFolder f = HfFolder.open(p)) {
            return LlamaConfig.fromHuggingFace(f.config());
        }
    }

    /** The same weights with sliding window w on the layers that already have one (all layers if none has). */
    static LlamaModel withWindow(LlamaModel m, int w) {
        LlamaConfig c = m.config();
        java.util.Set<Integer> layers = c.windowLayers().isEmpty()
                ? java.util.stream.IntStream.range(0, c.layers()).boxed().collect(java.util.stream.Collectors.toSet())
                : c.windowLayers();
        LlamaConfig cw = new LlamaConfig(c.arch(), c.dim(), c.hiddenDim(), c.layers(), c.heads(), c.kvHeads(),
                c.headDim(), c.vocabSize(), c.contextLength(), c.rmsNormEps(), c.ropeTheta(), c.ropeDim(),
                c.ropePairing(), c.ropeScale(), c.experts(), c.expertsUsed(), c.sharedHiddenDim(), c.ropeScaling(),
                c.moeNormTopK(), c.denseHiddenDim(), c.denseLayers(), w, layers);
        return m.withConfig(cw);
    }
}
