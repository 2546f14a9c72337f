package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link EncoderStack#encode} on packed batches of unequal lengths against two independent references:
 * each sequence run alone through the session path ({@link Attention} with its KV cache, a different
 * attention implementation), and PyTorch's padded, masked BERT-like encoder (golden/stacks.json).
 */
class PackedEncoderTest {
    static final int D = 24, CTX = 64, VOCAB = 50, TYPES = 2, FF = 40;

    // Lengths cross the GEMM-attention threshold (32) both ways; 0 and 1 are edge cases.
    static final int[] LENGTHS = {5, 1, 40, 17, 0, 33};

    /** A random BERT-like stack; Mlp with biases, LayerNorm, learned positions and token types. */
    static EncoderStack stack(long seed, NormPlacement placement, int kvHeads, float alpha, float normScale,
                              List<FeedForward> ffnOut, List<Norm> normOut) {
        RandomLayers r = new RandomLayers(seed);
        AttentionConfig ac = AttentionConfig.builder(D, 4, CTX).kvHeads(kvHeads).causal(false).build();
        List<TransformerBlock> blocks = new ArrayList<>();
        for (int l = 0; l < 2; l++) {
            BlockConfig cfg = new BlockConfig(ac, placement, false, alpha, normScale);
            Attention a = new Attention(ac, biased(r, ac.qDim(), D), biased(r, ac.kvDim(), D), biased(r, ac.kvDim(), D),
                    biased(r, D, ac.qDim()));
            FeedForward ffn = ffnOut == null ? new Mlp(biased(r, FF, D), biased(r, D, FF), Activation.GELU_ERF)
                    : ffnOut.get(l);
            Norm in = placement.hasInputNorm() ? layerNorm(r) : null;
            Norm out = placement.hasOutputNorm() ? (normOut == null ? layerNorm(r) : normOut.get(l)) : null;
            blocks.add(new TransformerBlock(cfg, in, a, out, in == null ? null : layerNorm(r), ffn,
                    out == null ? null : layerNorm(r)));
        }
        return new EncoderStack(new Embedding(r.weight(VOCAB, D)), new LearnedPositions(r.gaussian(0.5, 0, CTX, D)),
                layerNorm(r), blocks, null, new Embedding(r.gaussian(0.5, 0, TYPES, D)));
    }

    static Linear biased(RandomLayers r, int out, int in) {
        return new Linear(r.weight(out, in), r.gaussian(0.1, 0, out));
    }

    static LayerNorm layerNorm(RandomLayers r) {
        return new LayerNorm(r.gaussian(0.2, 1.0, D), r.gaussian(0.1, 0, D), 1e-5f);
    }

    static int[][] randomIds(RandomLayers r, int[] lengths, int bound) {
        int[][] ids = new int[lengths.length][];
        for (int b = 0; b < lengths.length; b++) {
            ids[b] = new int[lengths[b]];
            for (int t = 0; t < lengths[b]; t++) {
                ids[b][t] = r.nextInt(bound);
            }
        }
        return ids;
    }

    // Sequence b alone through the session path: x₀ = E[tok] + S[type] given as embeddings, so positions and the
    // embedding norm are the stack's own (the session path has no token types).
    static float[] alone(EncoderStack s, int[] ids, int[] types, boolean[] valid) {
        Tensor x0 = Tensor.zeros(ids.length, D);
        s.embedding().lookup(ids, x0);
        Tensor t = Tensor.zeros(ids.length, D);
        s.tokenTypes().lookup(types, t);
        Ops.add(x0, t, x0);
        return s.forwardEmbeddings(x0, valid, s.newSession(CTX, false)).toFloatArray();
    }

    /*
     * Tolerance 2e-5 absolute on O(1) LayerNorm outputs: the two paths use the same weights but different attention
     * kernels (GEMM + softmax or dot/exp per key, against dotRows/expShiftSum over the cache) and add the embedding
     * terms in another order, so they differ by float rounding only; measured max ~2e-6.
     */
    static final double TOL = 2e-5;

    @Test
    void unequalLengthBatchEqualsEachSequenceAlone() {
        Object[][] cases = { // placement, kv heads, alpha, norm scale
            {NormPlacement.POST, 4, 1f, 1f}, {NormPlacement.POST, 2, 1f, 1f}, {NormPlacement.PRE, 1, 1f, 0.7f},
            {NormPlacement.PERI, 2, 1.3f, 1f}, {NormPlacement.OUTPUT, 4, 1f, 1f}, {NormPlacement.NONE, 4, 0.9f, 1f},
        };
        for (int c = 0; c < cases.length; c++) {
            EncoderStack s = stack(900 + c, (NormPlacement) cases[c][0], (int) cases[c][1], (float) cases[c][2],
                    (float) cases[c][3], null, null);
            RandomLayers r = new RandomLayers(77 + c);
            int[][] ids = randomIds(r, LENGTHS, VOCAB), types = randomIds(r, LENGTHS, TYPES);
            PackedBatch batch = PackedBatch.of(ids);
            float[] packed = s.encode(batch, batch.pack("ids", ids), batch.pack("types", types)).toFloatArray();
            assertEquals(batch.rows() * D, packed.length);
            double err = 0;
            for (int b = 0; b < ids.length; b++) {
                if (ids[b].length == 0) {
                    continue;
                }
                float[] one = alone(s, ids[b], types[b], null);
                for (int i = 0; i < one.length; i++) {
                    err = Math.max(err, Math.abs(one[i] - packed[batch.start(b) * D + i]));
                }
            }
            System.out.printf("packed encoder %-6s kv %d: max abs err vs alone %.3e%n", cases[c][0], cases[c][1], err);
            assertTrue(err <= TOL, cases[c][0] + " kv " + cases[c][1] + ": " + err);
        }
    }

    @Test
    void paddedBatchMatchesPyTorchOnRealTokensAndLeavesPaddingZero() {
        StackGoldenTest.BertLike f = StackGoldenTest.BertLike.load();
        EncoderStack stack = f.stack();
        int[] tokens = f.tokens();
        boolean[] valid = f.valid();
        // two rows, the fixture's padded one twice: each must match PyTorch on its real tokens
        float[] out = stack.encodePadded(new int[][] {tokens, tokens}, null, new boolean[][] {valid, valid})
                .toFloatArray();
        float[] expected = Golden.tensor(f.c().getAsJsonObject("output")).toFloatArray();
        int t = tokens.length, d = stack.hidden();
        double err = 0;
        for (int b = 0; b < 2; b++) {
            for (int i = 0; i < t; i++) {
                for (int k = 0; k < d; k++) {
                    float got = out[(b * t + i) * d + k];
                    if (valid[i]) {
                        err = Math.max(err, Math.abs(got - expected[i * d + k]));
                    } else {
                        assertEquals(0f, got, "padded row " + i + " must stay 0");
                    }
                }
            }
        }
        System.out.printf("packed encoder vs PyTorch padded+masked: max abs err %.3e%n", err);
        assertTrue(err <= 1e-4, "vs PyTorch: " + err);   // the fixture's own atol
    }

    @Test
    void leftPaddingKeepsEachTokensPosition() {
        EncoderStack s = stack(950, NormPlacement.POST, 2, 1f, 1f, null, null);
        boolean[] left = {false, false, false, true, true, true, true, true};
        boolean[] right = {true, true, true, true, true, false, false, false};
        int[][] ids = randomIds(new RandomLayers(5), new int[] {8, 8}, VOCAB);
        int[][] types = new int[2][8];
        float[] out = s.encodePadded(ids, types, new boolean[][] {left, right}).toFloatArray();
        double err = 0;
        for (int b = 0; b < 2; b++) {
            boolean[] valid = b == 0 ? left : right;
            float[] one = alone(s, ids[b], types[b], valid);  // session path, key padding mask, positions 0..7
            for (int i = 0; i < 8; i++) {
                for (int k = 0; valid[i] && k < D; k++) {
                    err = Math.max(err, Math.abs(one[i * D + k] - out[(b * 8 + i) * D + k]));
                }
            }
        }
        assertTrue(err <= TOL, "left/right padding vs masked session path: " + err);
    }

    /** Records how many rows every call of a wrapped feed-forward or norm sees. */
    record CountingFfn(FeedForward inner, List<Integer> rows) implements FeedForward {
        @Override
        public int hidden() {
            return inner.hidden();
        }

        @Override
        public Scratch newScratch(int maxTokens) {
            return inner.newScratch(maxTokens);
        }

        @Override
        public void forward(Tensor x, Tensor out, Scratch scratch) {
            rows.add(x.dim(0));
            inner.forward(x, out, scratch);
        }
    }

    record CountingNorm(Norm inner, List<Integer> rows) implements Norm {
        @Override
        public int dim() {
            return inner.dim();
        }

        @Override
        public Tensor apply(Tensor x, Tensor out) {
            rows.add(x.dim(0));
            return inner.apply(x, out);
        }
    }

    @Test
    void noComputationOnPadding() {
        List<Integer> ffnRows = new ArrayList<>(), normRows = new ArrayList<>();
        RandomLayers r = new RandomLayers(3);
        List<FeedForward> ffns = List.of(
                new CountingFfn(new Mlp(biased(r, FF, D), biased(r, D, FF), Activation.GELU_ERF), ffnRows),
                new CountingFfn(new Mlp(biased(r, FF, D), biased(r, D, FF), Activation.GELU_ERF), ffnRows));
        List<Norm> norms = List.of(new CountingNorm(layerNorm(r), normRows), new CountingNorm(layerNorm(r), normRows));
        EncoderStack s = stack(960, NormPlacement.POST, 4, 1f, 1f, ffns, norms);
        int width = 40;
        boolean[][] valid = new boolean[3][width];
        int[] real = {40, 3, 0};
        for (int b = 0; b < 3; b++) {
            for (int t = 0; t < real[b]; t++) {
                valid[b][t] = true;
            }
        }
        int[][] ids = randomIds(r, new int[] {width, width, width}, VOCAB);
        float[] out = s.encodePadded(ids, null, valid).toFloatArray();
        assertEquals(3 * width * D, out.length);
        // each of the 2 blocks: one FFN call and one attention output norm, on 43 rows (not 3 × 40 = 120)
        assertEquals(List.of(43, 43), ffnRows);
        assertEquals(List.of(43, 43), normRows);
    }

    @Test
    void badInputsAreClearErrors() {
        EncoderStack s = stack(970, NormPlacement.POST, 4, 1f, 1f, null, null);
        PackedBatch batch = PackedBatch.ofLengths(2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> s.encode(batch, new int[4], null));
        assertTrue(e.getMessage().contains("4 tokens") && e.getMessage().contains("5 rows"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.encode(batch, new int[5], new int[] {0, 0, 2, 0, 0}));
        assertTrue(e.getMessage().contains("token type 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> s.encode(PackedBatch.ofLengths(CTX + 1),
                new int[CTX + 1], null));
        assertTrue(e.getMessage().contains("position " + CTX), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PackedBatch.fromMask(new boolean[][] {{true}, {}}));
        assertTrue(e.getMessage().contains("row 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> batch.pack("ids", new int[][] {{1, 2}, {3}}));
        assertTrue(e.getMessage().contains("sequence 1 has 3 tokens"), e.getMessage());
        assertEquals(0, s.encode(PackedBatch.ofLengths(0, 0), new int[0], null).dim(0));

        AttentionConfig rope = AttentionConfig.builder(D, 4, CTX).causal(false).rope(RopeConfig.of(10000)).build();
        RandomLayers r = new RandomLayers(1);
        EncoderStack roped = new EncoderStack(new Embedding(r.weight(VOCAB, D)), null, null,
                List.of(r.block(BlockConfig.of(rope, NormPlacement.PRE), r.swiGlu(D, FF))), null);
        UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class,
                () -> roped.encode(PackedBatch.ofLengths(2), new int[2], null));
        assertTrue(u.getMessage().contains("ROPE") && u.getMessage().contains("EncoderStack.forward"), u.getMessage());
    }
}
