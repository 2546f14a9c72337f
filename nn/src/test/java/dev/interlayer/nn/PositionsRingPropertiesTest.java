package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Invariants of caller-supplied positions and of the sliding-window ring KV cache, on seeded random layers
 * (each failure names the seed and try): implicit positions equal explicit [len, len + T); RoPE and ALiBi
 * outputs are unchanged when every position shifts by a constant; ring caches give the same results as
 * full-length caches for random windows, lengths, chunkings and rollbacks; local layers allocate only the
 * ring; rollbacks past the ring and positions that revisit dropped keys are refused.
 */
class PositionsRingPropertiesTest {
    static final int TRIES = 16;
    static final int D = 12, CTX = 48, VOCAB = 20;

    // Random attention: heads/kv, RoPE (none/linear/llama3 scaling, both pairings, partial) or ALiBi or none,
    // optional window (local) / QK-norm / softcap.
    static AttentionConfig randomAttention(RandomLayers r, int ctx, int window, boolean ropeOnly) {
        int[][] shapes = {{4, 4}, {4, 2}, {4, 1}, {6, 3}};
        int[] hk = shapes[r.nextInt(shapes.length)];
        AttentionConfig.Builder b = AttentionConfig.builder(D, hk[0], ctx).kvHeads(hk[1]).headDim(4 * (1 + r.nextInt(2)))
                .window(window);
        RopeScaling[] scalings = {new RopeScaling.None(), new RopeScaling.Linear(2),
            new RopeScaling.Llama3(8, 1, 4, 16)};
        switch (ropeOnly ? 0 : r.nextInt(3)) {
            case 0 -> b.rope(new RopeConfig(10000, r.nextInt(2) == 0 ? Rope.Pairing.HALF_SPLIT
                    : Rope.Pairing.INTERLEAVED, r.nextInt(2) == 0 ? 0.5 : 1.0, scalings[r.nextInt(3)]));
            case 1 -> b.alibi(8f);
            default -> {
            }
        }
        if (r.nextInt(3) == 0) {
            b.qkNorm(r.nextInt(2) == 0 ? QkNorm.HEAD : QkNorm.FLAT);
        }
        if (r.nextInt(3) == 0) {
            b.softcap(1f + r.nextInt(5));
        }
        return b.build();
    }

    // A 2–4 layer decoder whose local layers share a window in [1, 6] and whose last layer is global.
    static DecoderStack randomStack(RandomLayers r, boolean learned) {
        int layers = 2 + r.nextInt(3), w = 1 + r.nextInt(6);
        List<TransformerBlock> blocks = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            boolean local = l < layers - 1 && r.nextInt(4) != 0;
            AttentionConfig ac = randomAttention(r, CTX, local ? w : 0, false);
            blocks.add(r.block(BlockConfig.of(ac, NormPlacement.PRE), r.swiGlu(D, 16)));
        }
        LearnedPositions pos = learned ? new LearnedPositions(r.gaussian(0.5, 0, CTX, D)) : null;
        return new DecoderStack(new Embedding(r.gaussian(1, 0, VOCAB, D)), pos, null, blocks, r.rms(D));
    }

    static int[] randomTokens(RandomLayers r, int t) {
        int[] tok = new int[t];
        for (int i = 0; i < t; i++) {
            tok[i] = r.nextInt(VOCAB);
        }
        return tok;
    }

    // Random chunk sizes in [1, maxChunk] covering t tokens.
    static int[] randomChunks(RandomLayers r, int t, int maxChunk) {
        List<Integer> c = new ArrayList<>();
        for (int done = 0; done < t; ) {
            int n = Math.min(t - done, 1 + r.nextInt(maxChunk));
            c.add(n);
            done += n;
        }
        return c.stream().mapToInt(Integer::intValue).toArray();
    }

    static int max(int[] a) {
        return Arrays.stream(a).max().orElse(0);
    }

    // Strictly increasing positions with random gaps of 0–2, starting at `start`, all below CTX.
    static int[] increasingPositions(RandomLayers r, int t, int start) {
        int[] p = new int[t];
        int cur = start;
        for (int i = 0; i < t; i++) {
            p[i] = cur;
            cur += 1 + (CTX - cur - (t - i) > 2 ? r.nextInt(3) : 0);
        }
        return p;
    }

    /**
     * Runs the same chunks through two sessions in lockstep and returns max |a − b| / max(1, max |b|). Both
     * sides do the same arithmetic in the same order, but Vector API lane reductions may round differently
     * before and after C2 compiles a kernel (seen: 1-ulp differences between two identical runs), so the
     * sessions advance together and the bound only allows that rounding noise: 1e-5 of the output scale. A
     * 1-ulp (6e-8) change in one layer grows through up to six layers' norms and softmaxes; a full-suite run
     * under load measured 1.26e-6 once (the bound was 1e-6 then), while a key read from the wrong ring row
     * changes a softmax weight by about 1/W, orders of magnitude above the bound.
     */
    static double lockstep(DecoderStack stack, StackSession a, StackSession b, int[] tokens, int[] chunks,
                           int[] positionsA, int[] positionsB) {
        double diff = 0, scale = 1;
        int past = 0;
        for (int c : chunks) {
            int[] tok = Arrays.copyOfRange(tokens, past, past + c);
            float[] ya = stack.forward(tok, positionsA == null ? null : Arrays.copyOfRange(positionsA, past, past + c),
                    a).toFloatArray();
            float[] yb = stack.forward(tok, positionsB == null ? null : Arrays.copyOfRange(positionsB, past, past + c),
                    b).toFloatArray();
            diff = Math.max(diff, Runs.maxAbs(ya, yb));
            for (float v : yb) {
                scale = Math.max(scale, Math.abs(v));
            }
            past += c;
        }
        return diff / scale;
    }

    static final double LOCKSTEP_TOL = 1e-5;

    @Test
    void implicitPositionsEqualExplicitContiguousOnes() {
        for (int i = 0; i < TRIES; i++) {
            long seed = 0x1D5L + i;
            RandomLayers r = new RandomLayers(seed);
            DecoderStack stack = randomStack(r, r.nextInt(2) == 0);
            int t = 5 + r.nextInt(30), m = 1 + r.nextInt(6);
            int[] tokens = randomTokens(r, t), chunks = randomChunks(r, t, m);
            int[] contiguous = new int[t];
            Arrays.setAll(contiguous, k -> k);
            double err = lockstep(stack, stack.newSession(CTX, m, false), stack.newSession(CTX, m, false), tokens,
                    chunks, null, contiguous);
            assertTrue(err <= LOCKSTEP_TOL, "seed " + seed + " try " + i + ": " + err);
        }
    }

    @Test
    void ropeAndAlibiOutputsInvariantUnderPositionShift() {
        double worstRope = 0, worstAlibi = 0;
        for (int i = 0; i < 2 * TRIES; i++) {
            long seed = 0x5A1FL + i;
            RandomLayers r = new RandomLayers(seed);
            boolean alibi = i % 4 == 3;
            AttentionConfig c = randomAttention(r, 256, r.nextInt(2) == 0 ? 0 : 1 + r.nextInt(5), !alibi);
            if (alibi) {
                c = c.toBuilder().alibi(8f).build();
            }
            Attention a = r.attention(c);
            int t = 4 + r.nextInt(9);
            Tensor x = r.input(t, D);
            int[] p = new int[t];
            boolean monotone = r.nextInt(2) == 0;
            for (int k = 0; k < t; k++) { // increasing with gaps, or arbitrary (repeats, going back)
                p[k] = monotone ? (k == 0 ? 0 : p[k - 1] + 1 + r.nextInt(3)) : r.nextInt(20);
            }
            int shift = 1 + r.nextInt(256 - max(p) - 1);
            int[] q = p.clone();
            for (int k = 0; k < t; k++) {
                q[k] += shift;
            }
            int[] chunks = randomChunks(r, t, 4);
            float[] y0 = Runs.attention(a, x, chunks, null, p), y1 = Runs.attention(a, x, chunks, null, q);
            double err = Runs.maxAbs(y0, y1);
            String what = "seed " + seed + " try " + i + " " + c + " positions " + Arrays.toString(p) + " shift "
                    + shift;
            if (alibi) {
                worstAlibi = Math.max(worstAlibi, err);
                // ALiBi sees only integer differences: equal up to the rounding of two separate runs
                assertTrue(err <= Runs.ROUNDING_TOL, what + ": " + err);
            } else {
                worstRope = Math.max(worstRope, err);
                // angles up to ~256 rad (computed in double, cos/sin rounded to F32): bound 1e-4 on O(1)
                // outputs, observed worst 4.8e-7
                assertTrue(err <= 1e-4, what + ": " + err);
            }
        }
        System.out.printf("position shift invariance: RoPE worst max abs diff %.3e, ALiBi %.3e%n", worstRope,
                worstAlibi);
    }

    @Test
    void ringCacheEqualsFullCache() {
        double worst = 0;
        int wraps = 0;
        for (int i = 0; i < 2 * TRIES; i++) {
            long seed = 0x816L + i;
            RandomLayers r = new RandomLayers(seed);
            DecoderStack stack = randomStack(r, r.nextInt(3) == 0);
            int t = 8 + r.nextInt(CTX - 16), m = 1 + r.nextInt(6);
            int[] tokens = randomTokens(r, t + 8), chunks = randomChunks(r, t, m);
            int[] positions = r.nextInt(2) == 0 ? null : increasingPositions(r, t + 8, r.nextInt(4));
            StackSession ring = stack.newSession(CTX, m, false), full = stack.newSession(CTX, m, false, false);
            int[] head = Arrays.copyOf(tokens, t), headPos = positions == null ? null : Arrays.copyOf(positions, t);
            double err = lockstep(stack, ring, full, head, chunks, headPos, headPos);
            // roll back by up to maxTokens + 1 (always allowed), then decode 8 more tokens on both
            int back = Math.min(t - 1, r.nextInt(m + 2));
            ring.cache().truncate(t - back);
            full.cache().truncate(t - back);
            int[] tail = Arrays.copyOfRange(tokens, t - back, t - back + 8);
            int[] tailPos = positions == null ? null : Arrays.copyOfRange(positions, t - back, t - back + 8);
            int[] ones = new int[8];
            Arrays.fill(ones, 1);
            err = Math.max(err, lockstep(stack, ring, full, tail, ones, tailPos, tailPos));
            worst = Math.max(worst, err);
            for (int l = 0; l < stack.layers(); l++) {
                wraps += ring.cache().isRing(l) && ring.position() > ring.cache().rows(l) ? 1 : 0;
            }
            // the same entries in the same order; a wrong or stale key shows up as O(0.1) or more
            assertTrue(err <= LOCKSTEP_TOL, "seed " + seed + " try " + i + " t=" + t + " maxTokens=" + m + " chunks "
                    + Arrays.toString(chunks) + " positions " + Arrays.toString(positions) + " rollback " + back
                    + ": " + err);
        }
        assertTrue(wraps > 10, "too few tries wrapped a ring: " + wraps);
        System.out.printf("ring vs full cache: worst max diff / output scale %.3e over %d tries (%d wrapped layers)%n", worst,
                2 * TRIES, wraps);
    }

    @Test
    void localLayersAllocateOnlyTheRing() {
        RandomLayers r = new RandomLayers(0x3E3L);
        boolean[] sliding = LayerPatterns.slidingWithPeriod(6, 3);  // Gemma 3 style: layers 2, 5 global
        List<TransformerBlock> blocks = new ArrayList<>();
        for (int l = 0; l < sliding.length; l++) {
            AttentionConfig ac = AttentionConfig.builder(D, 4, 512).kvHeads(2).headDim(4).window(sliding[l] ? 16 : 0)
                    .rope(RopeConfig.of(10000)).build();
            blocks.add(r.block(BlockConfig.of(ac, NormPlacement.PRE), r.swiGlu(D, 16)));
        }
        DecoderStack stack = new DecoderStack(new Embedding(r.gaussian(1, 0, VOCAB, D)), null, null, blocks,
                r.rms(D));
        StackSession s = stack.newSession(512, 8, false);
        KvCache c = s.cache();
        int kvDim = 2 * 4;
        for (int l = 0; l < sliding.length; l++) {
            int rows = sliding[l] ? 16 + 8 : 512;
            assertEquals(sliding[l], c.isRing(l), "layer " + l);
            assertEquals(rows, c.rows(l), "layer " + l + " rows");
            assertEquals(rows * kvDim, c.keys(l).length, "layer " + l + " key floats");
            assertEquals(rows * kvDim, c.values(l).length, "layer " + l + " value floats");
        }
        // a session whose chunk makes W + maxTokens reach the context keeps full rows
        assertEquals(20, stack.newSession(20, 8, false).cache().rows(0));
        // and the ring is what decode uses: 100 steps past a 17-row ring still match a full cache
        StackSession d = stack.newSession(512, 1, false), f = stack.newSession(512, 1, false, false);
        assertEquals(17, d.cache().rows(0));
        int[] tok = randomTokens(r, 100), ones = new int[100];
        Arrays.fill(ones, 1);
        double err = lockstep(stack, d, f, tok, ones, null, null);
        assertTrue(err <= LOCKSTEP_TOL, "100 decode steps, ring vs full: " + err);
    }

    private static DecoderStack windowStack(RandomLayers r, int window, int ctx) {
        AttentionConfig ac = AttentionConfig.builder(D, 4, ctx).kvHeads(2).headDim(4).window(window).rope(RopeConfig.of(10000))
                .build();
        return new DecoderStack(new Embedding(r.gaussian(1, 0, VOCAB, D)), null, null,
                List.of(r.block(BlockConfig.of(ac, NormPlacement.PRE), r.swiGlu(D, 16))), r.rms(D));
    }

    @Test
    void rollbackPastTheRingIsRefused() {
        RandomLayers r = new RandomLayers(0x7B1L);
        DecoderStack stack = windowStack(r, 4, 32);
        StackSession s = stack.newSession(32, 1, false); // ring of 5 rows
        int[] tok = randomTokens(r, 14);
        for (int i = 0; i < 12; i++) {
            stack.decode(tok[i], s);
        }
        int oldest = s.cache().oldestRetained(0);
        assertEquals(7, oldest); // 12 entries, 5 rows: entries 7..11 remain
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.cache().truncate(9));
        assertTrue(e.getMessage().contains("truncate to 9") && e.getMessage().contains("oldest retained position is 7"),
                e.getMessage());
        assertEquals(12, s.position(), "a refused rollback leaves the cache as it was");
        // rolling back maxTokens + 1 = 2 entries works and equals a session that never saw them
        s.cache().truncate(10);
        float[] after = stack.decode(tok[13], s).toFloatArray();
        StackSession fresh = stack.newSession(32, 1, false);
        for (int i = 0; i < 10; i++) {
            stack.decode(tok[i], fresh);
        }
        // 1e-5: same arithmetic, possibly rounded differently before/after JIT compilation (see lockstep)
        assertEquals(0.0, Runs.maxAbs(after, stack.decode(tok[13], fresh).toFloatArray()), 1e-5);
        s.cache().truncate(0); // an empty cache needs nothing
        assertEquals(0, s.cache().oldestRetained(0));
    }

    @Test
    void aChunkRefusedByALaterRingLayerLeavesEveryLayerIntact() {
        // layer 0: window 4, ring 8 rows; layer 1: window 8, ring 12 rows (maxTokens 4)
        RandomLayers r = new RandomLayers(0x2EFL);
        List<TransformerBlock> blocks = new ArrayList<>();
        for (int w : new int[] {4, 8}) {
            AttentionConfig ac = AttentionConfig.builder(D, 4, 64).kvHeads(2).headDim(4).window(w)
                    .rope(RopeConfig.of(10000)).build();
            blocks.add(r.block(BlockConfig.of(ac, NormPlacement.PRE), r.swiGlu(D, 16)));
        }
        DecoderStack stack = new DecoderStack(new Embedding(r.gaussian(1, 0, VOCAB, D)), null, null, blocks,
                r.rms(D));
        StackSession ring = stack.newSession(64, 4, false), full = stack.newSession(64, 4, false, false);
        int[][] history = {{0, 0, 0, 0}, {0, 0, 0, 0}, {4, 5, 6, 7}};
        for (int[] pos : history) {
            int[] tok = randomTokens(r, 4);
            stack.forward(tok, pos, ring);
            stack.forward(tok, pos, full);
        }
        // [4, 8): layer 0 only sees positions above its dropped ones (all 0), layer 1 would see position 0
        int[] tok = randomTokens(r, 4);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> stack.forward(tok, new int[] {4, 5, 6, 7}, ring));
        assertTrue(e.getMessage().contains("window 8"), e.getMessage());
        assertEquals(12, ring.position());
        assertEquals(4, ring.cache().oldestRetained(0));
        assertEquals(0, ring.cache().oldestRetained(1));
        // both layers continue exactly like a full cache that never saw the refused chunk
        double err = lockstep(stack, ring, full, randomTokens(r, 6), new int[] {3, 1, 1, 1}, new int[] {8, 9, 10, 11,
            12, 13}, new int[] {8, 9, 10, 11, 12, 13});
        assertTrue(err <= LOCKSTEP_TOL, "after the refused chunk: " + err);
    }

    @Test
    void positionsThatRevisitDroppedKeysAreRefusedByRings() {
        RandomLayers r = new RandomLayers(0xD0FL);
        DecoderStack stack = windowStack(r, 4, 32);
        int[] tok = randomTokens(r, 12);
        StackSession ring = stack.newSession(32, 1, false), full = stack.newSession(32, 1, false, false);
        for (int i = 0; i < 10; i++) {
            stack.decode(tok[i], i, ring);
            stack.decode(tok[i], i, full);
        }
        // position 3 could see keys at positions 0..3, long overwritten in the 5-row ring
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> stack.decode(tok[10], 3, ring));
        assertTrue(e.getMessage().contains("position 3") && e.getMessage().contains("no longer holds"),
                e.getMessage());
        stack.decode(tok[10], 3, full); // a full cache has them; roll it back to stay in step
        full.cache().truncate(10);
        // the refused call left the ring intact: both continue identically
        assertEquals(0.0, Runs.maxAbs(stack.decode(tok[11], 10, ring).toFloatArray(),
                stack.decode(tok[11], 10, full).toFloatArray()), 1e-5);
    }
}
