package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Invalid configs, wrong weight shapes, positions past the context, and NaN propagation. */
class BadInputTest {
    static void throwsWith(Class<? extends Throwable> type, String words, Executable body) {
        Throwable t = assertThrows(type, body);
        for (String w : words.split("\\|")) {
            assertTrue(t.getMessage().contains(w), "message should mention '" + w + "': " + t.getMessage());
        }
    }

    @Test
    void invalidConfigs() {
        throwsWith(IllegalArgumentException.class, "heads 5|hidden 16",
                () -> AttentionConfig.builder(16, 5, 32).build());
        throwsWith(IllegalArgumentException.class, "kvHeads 3|heads 4",
                () -> AttentionConfig.builder(16, 4, 32).kvHeads(3).build());
        throwsWith(IllegalArgumentException.class, "window 64|contextLength 32",
                () -> AttentionConfig.builder(16, 4, 32).window(64).build());
        throwsWith(IllegalArgumentException.class, "rotary",
                () -> AttentionConfig.builder(16, 4, 32).headDim(6).rope(new RopeConfig(1e4,
                        dev.interlayer.tensor.Rope.Pairing.HALF_SPLIT, 0.5, new RopeScaling.None())).build());
        throwsWith(IllegalArgumentException.class, "contextLength",
                () -> AttentionConfig.builder(16, 4, 0).build());
        throwsWith(IllegalArgumentException.class, "softcap",
                () -> AttentionConfig.builder(16, 4, 32).softcap(-1).build());
        throwsWith(IllegalArgumentException.class, "query_pre_attn_scalar|Infinity",
                () -> AttentionConfig.builder(16, 4, 32).queryPreAttnScalar(Float.POSITIVE_INFINITY));
        AttentionConfig ac = AttentionConfig.builder(16, 4, 32).build();
        throwsWith(IllegalArgumentException.class, "parallel|POST",
                () -> new BlockConfig(ac, NormPlacement.POST, true, 1f, 1f));
        throwsWith(IllegalArgumentException.class, "residualAlpha",
                () -> new BlockConfig(ac, NormPlacement.POST, false, 0f, 1f));
        throwsWith(IllegalArgumentException.class, "postLayers", () -> NormPlacement.mixLn(4, 5));
    }

    @Test
    void wrongWeightShapes() {
        RandomLayers r = new RandomLayers(7);
        AttentionConfig c = AttentionConfig.builder(16, 4, 32).kvHeads(2).build();
        throwsWith(IllegalArgumentException.class, "wk|[8, 16]|[16, 16]", () -> new Attention(c, r.linear(16, 16),
                r.linear(16, 16), r.linear(8, 16), r.linear(16, 16)));
        throwsWith(IllegalArgumentException.class, "bias", () -> new Linear(r.weight(4, 3), r.weight(3)));
        throwsWith(IllegalArgumentException.class, "PERI|attnOut", () -> new TransformerBlock(
                BlockConfig.of(c, NormPlacement.PERI), r.rms(16), r.attention(c), null, r.rms(16),
                r.swiGlu(16, 8), r.rms(16)));
        throwsWith(IllegalArgumentException.class, "PRE|attnOut", () -> new TransformerBlock(
                BlockConfig.of(c, NormPlacement.PRE), r.rms(16), r.attention(c), r.rms(16), r.rms(16),
                r.swiGlu(16, 8), null));
        throwsWith(IllegalArgumentException.class, "ffn hidden", () -> new TransformerBlock(
                BlockConfig.of(c, NormPlacement.NONE), null, r.attention(c), null, null, r.swiGlu(12, 8), null));
        throwsWith(IllegalArgumentException.class, "GatedMlp", () -> new GatedMlp(r.linear(8, 16),
                r.linear(9, 16), r.linear(16, 8), Activation.SILU));
        throwsWith(IllegalArgumentException.class, "qNorm|4", () -> new Attention(
                c.toBuilder().qkNorm(QkNorm.HEAD).build(), r.linear(16, 16), r.linear(8, 16), r.linear(8, 16),
                r.linear(16, 16), r.rms(16), r.rms(4)));
    }

    private static DecoderStack smallStack(RandomLayers r, int ctx) {
        AttentionConfig c = AttentionConfig.builder(16, 4, ctx).kvHeads(2).rope(RopeConfig.of(1e4)).build();
        return new DecoderStack(new Embedding(r.gaussian(1, 0, 10, 16)), null, null,
                List.of(r.block(BlockConfig.of(c, NormPlacement.PRE), r.swiGlu(16, 8))), r.rms(16));
    }

    @Test
    void positionsPastContextAndBadTokens() {
        RandomLayers r = new RandomLayers(8);
        DecoderStack stack = smallStack(r, 6);
        StackSession s = stack.newSession(6, 4, false);
        stack.forward(new int[] {1, 2, 3, 4}, s);
        stack.decode(5, s);
        stack.decode(6, s);
        throwsWith(IllegalStateException.class, "context length 6", () -> stack.decode(7, s));
        StackSession s2 = stack.newSession(6, 4, false);
        throwsWith(IllegalArgumentException.class, "token 10|vocabulary", () -> stack.forward(new int[] {10}, s2));
        throwsWith(IllegalArgumentException.class, "maxTokens", () -> stack.forward(new int[] {1, 2, 3, 4, 5}, s2));
        throwsWith(IllegalArgumentException.class, "contextLength 7", () -> stack.newSession(7, 4, false));
        throwsWith(IllegalArgumentException.class, "truncate to 3", () -> s2.cache().truncate(3));
        throwsWith(IllegalStateException.class, "taps are off", () -> s2.tap(0));
        LearnedPositions pos = new LearnedPositions(r.gaussian(1, 0, 4, 16));
        throwsWith(IllegalArgumentException.class, "past the table", () -> pos.addTo(Tensor.zeros(2, 16), 3));
    }

    @Test
    void explicitPositionsOutsideContextOrWrongLength() {
        RandomLayers r = new RandomLayers(10);
        DecoderStack stack = smallStack(r, 6);
        StackSession s = stack.newSession(6, 4, false);
        throwsWith(IllegalArgumentException.class, "DecoderStack.forward|positions has 3 entries for 2 tokens",
                () -> stack.forward(new int[] {1, 2}, new int[] {0, 1, 2}, s));
        throwsWith(IllegalArgumentException.class, "DecoderStack.forward|position -1|[0, 6)",
                () -> stack.forward(new int[] {1, 2}, new int[] {-1, 0}, s));
        throwsWith(IllegalArgumentException.class, "DecoderStack.forward|position 6|context length 6",
                () -> stack.decode(1, 6, s));
        assertTrue(s.position() == 0, "a refused chunk must not advance the session");
        Attention a = stack.blocks().get(0).attention();
        KvCache cache = new KvCache(6, a.config().kvDim());
        Attention.State st = a.newState(cache, 0, 4);
        throwsWith(IllegalArgumentException.class, "Attention.forward|positions has 1 entries for 2 tokens",
                () -> a.forward(r.input(2, 16), Tensor.zeros(2, 16), st, new int[] {0}));
        throwsWith(IllegalArgumentException.class, "Attention.forward|position 9|[0, 6)",
                () -> a.forward(r.input(2, 16), Tensor.zeros(2, 16), st, new int[] {0, 9}));
        LearnedPositions pos = new LearnedPositions(r.gaussian(1, 0, 4, 16));
        throwsWith(IllegalArgumentException.class, "LearnedPositions.addTo|position 4|table of 4",
                () -> pos.addTo(Tensor.zeros(2, 16), new int[] {0, 4}));
        throwsWith(IllegalArgumentException.class, "LearnedPositions.addTo|positions has 1 entries for 2 tokens",
                () -> pos.addTo(Tensor.zeros(2, 16), new int[] {0}));
    }

    @Test
    void ringCacheRejectsOversizedChunksAndMismatchedWindows() {
        RandomLayers r = new RandomLayers(11);
        AttentionConfig c = AttentionConfig.builder(16, 4, 32).window(4).rope(RopeConfig.of(1e4)).build();
        Attention a = r.attention(c);
        KvCache ring = KvCache.withSlidingRings(32, new int[] {c.kvDim()}, new int[] {4}, 2); // 6 rows
        Attention.State st = a.newState(ring, 0, 8);
        throwsWith(IllegalArgumentException.class, "chunk of 4 tokens|ring of 6 rows|at most 3",
                () -> a.forward(r.input(4, 16), Tensor.zeros(4, 16), st));
        KvCache other = KvCache.withSlidingRings(32, new int[] {c.kvDim()}, new int[] {3}, 2);
        throwsWith(IllegalArgumentException.class, "ring for window 3|window is 4", () -> a.newState(other, 0, 2));
        throwsWith(IllegalArgumentException.class, "maxChunk must be >= 1",
                () -> KvCache.withSlidingRings(32, new int[] {8}, new int[] {4}, 0));
    }

    @Test
    void nanInputsPropagateToLaterCausalOutputs() {
        // Documented behaviour: no exception; NaN reaches every query that attends to the NaN key.
        RandomLayers r = new RandomLayers(9);
        AttentionConfig c = AttentionConfig.builder(16, 4, 8).rope(RopeConfig.of(1e4)).build();
        TransformerBlock b = r.block(BlockConfig.of(c, NormPlacement.PRE), r.swiGlu(16, 8));
        Tensor x = r.input(4, 16);
        x.setFloat(Float.NaN, 2, 5);
        float[] y = Runs.block(b, x, null);
        for (int t = 0; t < 4; t++) {
            boolean nan = false;
            for (int j = 0; j < 16; j++) {
                nan |= Float.isNaN(y[t * 16 + j]);
            }
            assertTrue(nan == (t >= 2), "row " + t + (t >= 2 ? " should" : " should not") + " contain NaN");
        }
    }
}
