package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Temporaries shared between the layers of a session: identity by role and shape, and unchanged outputs. */
class ScratchPoolTest {

    @Test
    void buffersAreSharedByRoleAndShapeOnly() {
        ScratchPool pool = new ScratchPool();
        RowBuffer a = ScratchPool.rows(pool, "x", 4, 8);
        assertSame(a, ScratchPool.rows(pool, "x", 4, 8));
        assertNotSame(a, ScratchPool.rows(pool, "x", 4, 9));
        assertNotSame(a, ScratchPool.rows(pool, "x", 5, 8));
        assertNotSame(a, ScratchPool.rows(pool, "y", 4, 8));
        assertNotSame(a, ScratchPool.rows(null, "x", 4, 8), "no pool: a private buffer per call");
        float[][] m = ScratchPool.matrix(pool, "s", 2, 3);
        assertSame(m, ScratchPool.matrix(pool, "s", 2, 3));
        assertNotSame(m, ScratchPool.matrix(null, "s", 2, 3));
    }

    /** A sub-pool per role (one per concurrent thread): the same one for the same role, with buffers of its own. */
    @Test
    void childPoolsAreSharedByRoleAndHoldTheirOwnBuffers() {
        ScratchPool pool = new ScratchPool();
        ScratchPool c1 = ScratchPool.child(pool, "slot 1");
        assertSame(c1, ScratchPool.child(pool, "slot 1"));
        assertNotSame(c1, ScratchPool.child(pool, "slot 2"));
        RowBuffer a = ScratchPool.rows(pool, "x", 4, 8);
        assertNotSame(a, ScratchPool.rows(c1, "x", 4, 8), "a child's buffers are not its parent's");
        assertSame(ScratchPool.rows(c1, "x", 4, 8), ScratchPool.rows(ScratchPool.child(pool, "slot 1"), "x", 4, 8));
        assertTrue(ScratchPool.child(null, "slot 1") == null, "no pool: no child, private buffers");
    }

    /**
     * A stack whose blocks share temporaries (a StackSession) gives the outputs of the same blocks run with
     * private buffers, chunk by chunk. Layers differ in FFN kind (dense, MoE with a gated shared expert of the
     * same width as the experts, so expert and shared expert share buffers too) and window. 1e-5: the same
     * kernels on the same data, allowing for JIT-dependent summation order between calls.
     */
    @Test
    void sharedTemporariesDoNotChangeTheOutput() {
        RandomLayers r = new RandomLayers(0x900L);
        int d = 16, vocab = 30, ctx = 48;
        List<TransformerBlock> blocks = new ArrayList<>();
        for (int l = 0; l < 4; l++) {
            AttentionConfig ac = AttentionConfig.builder(d, 4, ctx).kvHeads(2).window(l % 2 == 1 ? 5 : 0)
                    .rope(RopeConfig.of(1e4)).build();
            FeedForward ffn = l == 2 ? moe(r, d) : r.swiGlu(d, 12);
            blocks.add(r.block(BlockConfig.of(ac, NormPlacement.PRE), ffn));
        }
        Embedding emb = new Embedding(r.gaussian(1, 0, vocab, d));
        Norm fin = r.rms(d);
        DecoderStack stack = new DecoderStack(emb, null, null, blocks, fin);
        StackSession pooled = stack.newSession(ctx, 6, false, false);
        KvCache cache = new KvCache(ctx, blocks.stream().mapToInt(b -> b.config().attention().kvDim()).toArray());
        List<TransformerBlock.State> own = new ArrayList<>();
        for (int l = 0; l < blocks.size(); l++) {
            own.add(blocks.get(l).newState(cache, l, 6));   // no pool: private buffers
        }
        int[] tokens = new int[29];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = r.nextInt(vocab);
        }
        for (int off = 0; off < tokens.length; off += 6) {
            int t = Math.min(6, tokens.length - off);
            float[] got = stack.forward(tokens, off, t, pooled).toFloatArray();
            dev.interlayer.tensor.Tensor x = dev.interlayer.tensor.Tensor.zeros(t, d);
            emb.lookup(tokens, off, t, x);
            for (int l = 0; l < blocks.size(); l++) {
                blocks.get(l).forward(x, own.get(l));
            }
            cache.advance(t);
            dev.interlayer.tensor.Tensor want = dev.interlayer.tensor.Tensor.zeros(t, d);
            fin.apply(x, want);
            double err = Runs.maxAbs(got, want.toFloatArray());
            assertTrue(err <= 1e-5, "chunk at " + off + ": " + err);
        }
    }

    private static dev.interlayer.nn.moe.MoeFeedForward moe(RandomLayers r, int d) {
        List<FeedForward> experts = new ArrayList<>();
        for (int e = 0; e < 4; e++) {
            experts.add(r.swiGlu(d, 12));
        }
        return new dev.interlayer.nn.moe.MoeFeedForward(new dev.interlayer.nn.moe.MoeConfig(d, 4, 2, false,
                dev.interlayer.nn.moe.SharedExperts.GATED), r.linear(4, d), experts, r.swiGlu(d, 12), r.linear(1, d));
    }
}
