package dev.interlayer.nn;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.ShapeMismatchException;
import dev.interlayer.tensor.Tensor;
import java.util.List;

/** Shared forward pass of the encoder and decoder stacks. */
final class Stacks {
    private Stacks() {
    }

    static void validate(String who, Embedding embedding, LearnedPositions positions, Norm embeddingNorm,
                         List<TransformerBlock> blocks, Norm finalNorm) {
        if (blocks == null || blocks.isEmpty()) {
            throw new IllegalArgumentException(who + ": needs at least one block");
        }
        int d = blocks.get(0).config().hidden();
        for (int l = 0; l < blocks.size(); l++) {
            if (blocks.get(l).config().hidden() != d) {
                throw new ShapeMismatchException(who + ": block " + l + " hidden " + blocks.get(l).config().hidden()
                        + " != block 0 hidden " + d);
            }
        }
        if (embedding != null && embedding.dim() != d) {
            throw new ShapeMismatchException(who + ": embedding dim " + embedding.dim() + " != hidden " + d);
        }
        if (positions != null && positions.table().dim(1) != d) {
            throw new ShapeMismatchException(who + ": position table " + positions.table().shape()
                    + " does not match hidden " + d);
        }
        if (embeddingNorm != null && embeddingNorm.dim() != d) {
            throw new ShapeMismatchException(who + ": embeddingNorm width " + embeddingNorm.dim() + " != " + d);
        }
        if (finalNorm != null && finalNorm.dim() != d) {
            throw new ShapeMismatchException(who + ": finalNorm width " + finalNorm.dim() + " != hidden " + d);
        }
    }

    static int contextLength(List<TransformerBlock> blocks, LearnedPositions positions) {
        int ctx = Integer.MAX_VALUE;
        for (TransformerBlock b : blocks) {
            ctx = Math.min(ctx, b.config().attention().contextLength());
        }
        return positions == null ? ctx : Math.min(ctx, positions.maxPositions());
    }

    static Tensor embed(Embedding embedding, int[] tokens, int[] positions, StackSession s) {
        return embed(embedding, tokens, 0, tokens.length, positions, s);
    }

    static Tensor embed(Embedding embedding, int[] tokens, int off, int len, int[] positions, StackSession s) {
        checkChunk(len, positions, s);
        if (embedding == null) {
            throw new IllegalStateException("this stack has no embedding; pass embeddings to forwardEmbeddings");
        }
        Tensor x = s.x.rows(len);
        embedding.lookup(tokens, off, len, x);
        return x;
    }

    static Tensor copyIn(Tensor x0, int[] positions, StackSession s) {
        if (x0.rank() != 2 || x0.dim(1) != s.x.cols()) {
            throw new ShapeMismatchException("forwardEmbeddings: x must be [T, " + s.x.cols() + "], got "
                    + x0.shape());
        }
        checkChunk(x0.dim(0), positions, s);
        Tensor x = s.x.rows(x0.dim(0));
        Ops.scale(x0, 1f, x); // a kernel copy (exact: x·1 = x), F16/BF16 inputs widened; no per-call index arrays
        return x;
    }

    private static void checkChunk(int t, int[] positions, StackSession s) {
        if (t < 1 || t > s.maxTokens) {
            throw new IllegalArgumentException("chunk of " + t + " tokens: must be in [1, maxTokens="
                    + s.maxTokens + "]");
        }
        s.cache.requireRoom(t);
        if (positions != null) {
            s.cache.checkPositions("DecoderStack.forward", positions, t);
        }
    }

    /**
     * Runs learned positions, embedding norm, blocks and final norm on s.x rows(T) at the given token
     * positions (null = the cache's next positions); returns the output view.
     */
    static Tensor run(LearnedPositions positions, Norm embeddingNorm, List<TransformerBlock> blocks, Norm finalNorm,
                      Tensor x, int[] tokenPositions, StackSession s) {
        int t = x.dim(0);
        if (positions != null) {
            if (tokenPositions == null) {
                positions.addTo(x, s.cache.length());
            } else {
                positions.addTo(x, tokenPositions);
            }
        }
        if (embeddingNorm != null) {
            embeddingNorm.apply(x, x);
        }
        s.tap(0, t);
        if (s.anyRing) {
            // a ring layer that refuses the chunk must do so before any layer overwrites ring rows
            for (TransformerBlock.State b : s.blocks) {
                b.attn.stage(tokenPositions, t);
            }
        }
        for (int l = 0; l < blocks.size(); l++) {
            blocks.get(l).forward(x, s.blocks[l], tokenPositions, l, s.linearTap);
            s.tap(l + 1, t);
        }
        s.cache.advance(t);
        s.lastTokens = t;
        Tensor out = s.out.rows(t);
        if (finalNorm != null) {
            finalNorm.apply(x, out);
        } else {
            System.arraycopy(s.x.data(), 0, s.out.data(), 0, t * s.x.cols());
        }
        return out;
    }
}
