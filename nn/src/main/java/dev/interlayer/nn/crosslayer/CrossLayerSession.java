package dev.interlayer.nn.crosslayer;

import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.PositionEncoding;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.nn.plan.StepHook;
import dev.interlayer.nn.plan.Sublayers;
import dev.interlayer.tensor.Rope;

/**
 * Per-session state of a {@link CrossLayerStack}: per-layer key/value caches (none for a layer that reads a shared
 * cache), raw pre-shift keys/values for KV-shift layers (so a rollback restores the shift state), the value-residual
 * side channel V_0 of the current call, and scratch rows. Preallocated: decode allocates nothing.
 * Mutable; one thread owns it.
 */
public final class CrossLayerSession {
    final int contextLength, maxTokens;
    final float[][] keys, values;  // [L][ctx·kvDim] post-RoPE keys, values (null for sharing layers)
    final float[][] rawK, rawV;    // [L][ctx·kvDim] raw keys/values of KV-shift layers, else null
    final FeedForward.Scratch[] ffn;
    final Sublayers sublayers;
    final RowBuffer x, out, u, a;  // [maxTokens, d]
    final RowBuffer q, o;          // [maxTokens, Hq·dh]
    final RowBuffer k, v, v0;      // [maxTokens, Hkv·dh]
    final double[] scores;         // [ctx + largest memory size]
    final float[][] memK, memV;    // [L][H·N·dh] persistent keys/values (heap copies), or null
    final Rope[] ropes;            // [L] RoPE tables (null without RoPE), built once
    final int[] oneToken = new int[1];
    StepHook hook;
    int length;

    CrossLayerSession(DecoderStack stack, CrossLayerConfig cfg, int contextLength, int maxTokens) {
        int layers = stack.layers();
        AttentionConfig ac = stack.blocks().get(0).config().attention();
        int d = ac.hidden();
        this.contextLength = contextLength;
        this.maxTokens = Math.min(maxTokens, contextLength);
        keys = new float[layers][];
        values = new float[layers][];
        rawK = new float[layers][];
        rawV = new float[layers][];
        ffn = new FeedForward.Scratch[layers];
        memK = new float[layers][];
        memV = new float[layers][];
        ropes = new Rope[layers];
        int maxMem = 0;
        for (int l = 0; l < layers; l++) {
            int kv = stack.blocks().get(l).config().attention().kvDim();
            if (cfg.kvSource(l) == l) {
                keys[l] = new float[contextLength * kv];
                values[l] = new float[contextLength * kv];
            }
            if (cfg.kvShift().containsKey(l)) {
                rawK[l] = new float[contextLength * kv];
                rawV[l] = new float[contextLength * kv];
            }
            if (cfg.memory().containsKey(l)) {
                maxMem = Math.max(maxMem, cfg.memory().get(l).size());
                memK[l] = cfg.memory().get(l).keys().toFloatArray();
                memV[l] = cfg.memory().get(l).values().toFloatArray();
            }
            AttentionConfig lc = stack.blocks().get(l).config().attention();
            ropes[l] = lc.positions() == PositionEncoding.ROPE ? lc.rope().table(lc.headDim(), 0) : null;
            ffn[l] = stack.blocks().get(l).ffn().newScratch(this.maxTokens);
        }
        sublayers = new Sublayers(this.maxTokens, d);
        x = new RowBuffer(this.maxTokens, d);
        out = new RowBuffer(this.maxTokens, d);
        u = new RowBuffer(this.maxTokens, d);
        a = new RowBuffer(this.maxTokens, d);
        q = new RowBuffer(this.maxTokens, ac.qDim());
        o = new RowBuffer(this.maxTokens, ac.qDim());
        k = new RowBuffer(this.maxTokens, ac.kvDim());
        v = new RowBuffer(this.maxTokens, ac.kvDim());
        v0 = new RowBuffer(this.maxTokens, ac.kvDim());
        scores = new double[contextLength + maxMem];
    }

    /** Tokens processed so far (the next position). */
    public int position() {
        return length;
    }

    /** Installs a hook on the residual stream (called after the embedding and after every layer), or null. */
    public void setHook(StepHook hook) {
        this.hook = hook;
    }

    /** Rolls back to {@code newLength} tokens. @throws IllegalArgumentException unless 0 ≤ newLength ≤ position() */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("truncate to " + newLength + ": must be in [0, " + length + "]");
        }
        length = newLength;
    }

    /** Floats held by the key/value caches (both K and V, all layers that own a cache). */
    public long cacheFloats() {
        long n = 0;
        for (float[] kk : keys) {
            n += kk == null ? 0 : 2L * kk.length;
        }
        return n;
    }
}
