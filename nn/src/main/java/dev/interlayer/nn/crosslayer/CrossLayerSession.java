package dev.interlayer.nn.crosslayer;

import dev.interlayer.nn.Attention;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.KvCache;
import dev.interlayer.nn.KvTransform;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.nn.ScratchPool;
import dev.interlayer.nn.plan.StepHook;
import dev.interlayer.nn.plan.Sublayers;

/**
 * Per-session state of a {@link CrossLayerStack}: one {@link KvCache} with a layer for every attention layer that
 * owns its keys and values (a layer reading a shared cache has none), each layer's {@link Attention.State} (a
 * shared-cache state for a reading layer; the value-residual / KV-shift {@link KvTransform} and the persistent
 * memory installed on it), raw pre-shift keys/values for KV-shift layers (so a rollback restores the shift state),
 * the value-residual side channel V_0 of the current call, and scratch rows. Preallocated: decode allocates
 * nothing. Mutable; one thread owns it.
 */
public final class CrossLayerSession {
    final int contextLength, maxTokens;
    final KvCache cache;           // one cache layer per layer that owns its keys and values
    final Attention.State[] attn;  // [L]
    final float[][] rawK, rawV;    // [L][ctx·kvDim] raw keys/values of KV-shift layers, else null
    final FeedForward.Scratch[] ffn;
    final Sublayers sublayers;
    final RowBuffer x, out, u, a;  // [maxTokens, d]
    final RowBuffer v0;            // [maxTokens, Hkv·dh] layer 0's values of the current call (value residual)
    final int[] oneToken = new int[1];
    StepHook hook;

    CrossLayerSession(DecoderStack stack, CrossLayerConfig cfg, int contextLength, int maxTokens) {
        int layers = stack.layers();
        AttentionConfig ac = stack.blocks().get(0).config().attention();
        int d = ac.hidden();
        this.contextLength = contextLength;
        this.maxTokens = Math.min(maxTokens, contextLength);
        int[] slot = new int[layers];   // cache layer of each owning layer
        int owners = 0;
        for (int l = 0; l < layers; l++) {
            slot[l] = cfg.kvSource(l) == l ? owners++ : -1;
        }
        int[] kvDims = new int[owners];
        for (int l = 0; l < layers; l++) {
            if (slot[l] >= 0) {
                kvDims[slot[l]] = stack.blocks().get(l).config().attention().kvDim();
            }
        }
        cache = new KvCache(contextLength, kvDims);
        attn = new Attention.State[layers];
        rawK = new float[layers][];
        rawV = new float[layers][];
        ffn = new FeedForward.Scratch[layers];
        v0 = new RowBuffer(this.maxTokens, ac.kvDim());
        ScratchPool pool = new ScratchPool();   // the layers run one after another: one set of temporaries
        for (int l = 0; l < layers; l++) {
            Attention at = stack.blocks().get(l).attention();
            int kv = at.config().kvDim();
            if (cfg.kvShift().containsKey(l)) {
                rawK[l] = new float[contextLength * kv];
                rawV[l] = new float[contextLength * kv];
            }
            attn[l] = slot[l] >= 0 ? at.newState(cache, slot[l], this.maxTokens, pool)
                    : at.newSharedState(cache, slot[cfg.kvSource(l)], this.maxTokens);
            if (slot[l] >= 0) {
                attn[l].setKvTransform(transform(l, cfg, at.config()));
            }
            CrossLayerConfig.PersistentMemory m = cfg.memory().get(l);
            if (m != null) {
                attn[l].setPersistentMemory(m.keys(), m.values());
            }
            ffn[l] = stack.blocks().get(l).ffn().newScratch(this.maxTokens);
        }
        sublayers = new Sublayers(this.maxTokens, d);
        x = new RowBuffer(this.maxTokens, d);
        out = new RowBuffer(this.maxTokens, d);
        u = new RowBuffer(this.maxTokens, d);
        a = new RowBuffer(this.maxTokens, d);
    }

    // Value residual, then KV shift, on the new keys/values of layer l (after QK-norm, before RoPE), or null.
    private KvTransform transform(int l, CrossLayerConfig cfg, AttentionConfig c) {
        boolean residual = cfg.valueResidual() != null;
        CrossLayerConfig.KvShift sh = cfg.kvShift().get(l);
        if (!residual && sh == null) {
            return null;
        }
        int kvDim = c.kvDim();
        float l1 = residual && l > 0 ? cfg.lambda1(l) : 0f, l2 = residual && l > 0 ? cfg.lambda2(l) : 1f;
        float[] side = v0.data(), rk = rawK[l], rv = rawV[l];
        return (k, v, past, t) -> {
            if (residual && l == 0) {
                System.arraycopy(v, 0, side, 0, t * kvDim);   // V_0 of this call's tokens
            } else if (residual) {
                for (int i = 0; i < t * kvDim; i++) {          // U = λ1·V_0 + λ2·V (SVFormer λ2 = 0: V unused)
                    v[i] = l2 == 0f ? l1 * side[i] : l2 * v[i] + l1 * side[i];
                }
            }
            if (sh != null) {
                System.arraycopy(k, 0, rk, past * kvDim, t * kvDim);
                System.arraycopy(v, 0, rv, past * kvDim, t * kvDim);
                KvMath.shift(k, rk, sh.k(), past, t, c.kvHeads(), c.headDim());
                KvMath.shift(v, rv, sh.v(), past, t, c.kvHeads(), c.headDim());
            }
        };
    }

    /** Tokens processed so far (the next position). */
    public int position() {
        return cache.length();
    }

    /** Installs a hook on the residual stream (called after the embedding and after every layer), or null. */
    public void setHook(StepHook hook) {
        this.hook = hook;
    }

    /** Rolls back to {@code newLength} tokens. @throws IllegalArgumentException unless 0 ≤ newLength ≤ position() */
    public void truncate(int newLength) {
        cache.truncate(newLength);
    }

    /** Floats held by the key/value caches (both K and V, all layers that own a cache). */
    public long cacheFloats() {
        long n = 0;
        for (int l = 0; l < cache.layers(); l++) {
            n += 2L * cache.contextLength() * cache.kvDim(l);
        }
        return n;
    }
}
