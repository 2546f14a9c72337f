package dev.interlayer.nn;

import dev.interlayer.tensor.Tensor;
import java.util.List;

/**
 * Per-session state of a {@link DecoderStack} or {@link EncoderStack}: the KV cache, every block's
 * buffers, the residual stream, and optional hidden-state taps (for logit-lens style readouts).
 *
 * <p>Tap ℓ (0..L) is the residual stream entering layer ℓ: tap 0 = embedding output (after scale,
 * learned positions and embedding norm), tap L = last block output before the final norm. Unlike HF
 * {@code hidden_states}, tap L is not normalized. Mutable; one thread owns it.
 */
public final class StackSession {
    final KvCache cache;
    final TransformerBlock.State[] blocks;
    final RowBuffer x;       // [maxTokens, d] residual stream
    final RowBuffer out;     // [maxTokens, d] final-norm output
    final RowBuffer[] taps;  // [L + 1] of [maxTokens, d], or null when taps are off
    final int[] oneToken = new int[1];
    final int[] onePosition = new int[1];
    final int maxTokens;
    final boolean anyRing;   // some layer keeps a sliding-window ring
    LinearTap linearTap;     // calibration observer, or null
    int lastTokens;

    StackSession(List<TransformerBlock> blocks, int contextLength, int maxTokens, boolean taps, boolean ringCache,
                 KvType kvType) {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
        }
        int[] kvDims = new int[blocks.size()];
        int[] windows = new int[blocks.size()];
        for (int l = 0; l < kvDims.length; l++) {
            kvDims[l] = blocks.get(l).config().attention().kvDim();
            windows[l] = ringCache ? blocks.get(l).config().attention().window() : 0;
            kvType.requireHeadDim(l, blocks.get(l).config().attention().headDim()); // before any allocation
        }
        this.maxTokens = Math.min(maxTokens, contextLength);
        this.cache = KvCache.withSlidingRings(contextLength, kvDims, windows, this.maxTokens, kvType);
        boolean ring = false;
        for (int l = 0; l < kvDims.length; l++) {
            ring |= cache.isRing(l);
        }
        this.anyRing = ring;
        this.blocks = new TransformerBlock.State[blocks.size()];
        ScratchPool pool = new ScratchPool();   // the blocks run one after another: one set of temporaries
        for (int l = 0; l < kvDims.length; l++) {
            this.blocks[l] = blocks.get(l).newState(cache, l, this.maxTokens, pool);
        }
        int d = blocks.get(0).config().hidden();
        this.x = new RowBuffer(this.maxTokens, d);
        this.out = new RowBuffer(this.maxTokens, d);
        if (taps) {
            this.taps = new RowBuffer[blocks.size() + 1];
            for (int l = 0; l < this.taps.length; l++) {
                this.taps[l] = new RowBuffer(this.maxTokens, d);
            }
        } else {
            this.taps = null;
        }
    }

    /** The session's KV cache (truncate it to roll back). */
    public KvCache cache() {
        return cache;
    }

    /** Number of tokens processed so far (= cache length; the next implicit position). */
    public int position() {
        return cache.length();
    }

    /** Largest chunk one call may process. */
    public int maxTokens() {
        return maxTokens;
    }

    /** State of block l (attention state, FFN scratch with MoE router statistics). */
    public TransformerBlock.State block(int layer) {
        return blocks[layer];
    }

    /**
     * Tap ℓ of the last call as a [T, d] view (valid until the next call).
     *
     * @throws IllegalStateException if taps were not enabled or nothing ran yet
     */
    public Tensor tap(int layer) {
        if (taps == null) {
            throw new IllegalStateException("taps are off; create the session with taps = true");
        }
        if (lastTokens == 0) {
            throw new IllegalStateException("no forward call has run in this session yet");
        }
        if (layer < 0 || layer >= taps.length) {
            throw new IndexOutOfBoundsException("tap " + layer + " outside [0, " + (taps.length - 1) + "]");
        }
        return taps[layer].rows(lastTokens);
    }

    /**
     * Installs (or, with null, removes) a tap that sees the input rows of every block's linears on the
     * following forward calls (for calibration). Returns this session.
     */
    public StackSession linearTap(LinearTap tap) {
        this.linearTap = tap;
        return this;
    }

    void tap(int layer, int tokens) {
        if (taps != null) {
            System.arraycopy(x.data(), 0, taps[layer].data(), 0, tokens * x.cols());
        }
    }
}
