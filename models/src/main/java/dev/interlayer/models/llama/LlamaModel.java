package dev.interlayer.models.llama;

import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.HfFolder;
import dev.interlayer.models.io.WeightSource;
import dev.interlayer.models.lm.HfJson;
import dev.interlayer.models.lm.HiddenStates;
import dev.interlayer.models.lm.Weights;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Rope;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.Unary;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Llama-family decoder: pre-norm blocks of RMSNorm → GQA self-attention with RoPE → residual,
 * RMSNorm → SwiGLU feed-forward → residual; final RMSNorm and an output projection.
 *
 * <pre>
 *   x = embed[tokens]                                     [T, dim]
 *   for each layer:
 *     h = rmsnorm(x) ; q = h·Wqᵀ (+bq) ; k = h·Wkᵀ (+bk) ; v = h·Wvᵀ (+bv)
 *     q, k = rope(q, k, positions)                        [T, heads·hd], [T, kvHeads·hd]
 *     cache[pos0..pos0+T) = k, v                          (a ring of w − 1 + chunk slots in windowed layers)
 *     a_h = softmax(q_h·K_gᵀ / √hd, mask) · V_g             g = h / (heads/kvHeads)
 *           mask: key j visible to query i iff j ≤ i, and i − w &lt; j in a layer with sliding window w
 *     x += a·Woᵀ
 *     h = rmsnorm(x) ; x += (silu(h·Wgateᵀ) ⊙ h·Wupᵀ)·Wdownᵀ   (MoE layers: routed experts, see moe)
 *   logits = rmsnorm(x)·Woutᵀ                              [T, vocab]
 * </pre>
 *
 * Weights stay in their mapped dtype (F32/F16/BF16); activations are F32 heap buffers preallocated in
 * {@link State}. Immutable and thread-safe; each thread uses its own {@link State}.
 */
public final class LlamaModel implements CausalLM, HiddenStates {
    /** GGUF architectures this class runs. */
    public static final List<String> SUPPORTED_ARCHS = List.of("llama", "mistral", "qwen2", "qwen2moe");

    /** Tokens per prefill chunk: bounds the activation buffers while keeping matmuls batched. */
    public static final int DEFAULT_CHUNK = 128;

    /**
     * Weights of one block. Shapes (outermost first): norms [dim]; wq [qDim, dim]; wk, wv [kvDim, dim];
     * wo [dim, qDim]; biases [qDim]/[kvDim] or null; dense FFN gate, up [hidden, dim], down [dim, hidden]
     * (null in MoE layers); {@code moe} null in dense layers.
     */
    public record Layer(Tensor attnNorm, Tensor wq, Tensor wk, Tensor wv, Tensor wo, Tensor bq, Tensor bk, Tensor bv,
                        Tensor ffnNorm, Tensor gate, Tensor up, Tensor down, Moe moe) {
    }

    /**
     * Mixture-of-experts FFN weights: router [experts, dim]; per expert gate, up [hidden, dim] and
     * down [dim, hidden] (views of the stored 3-D tensors); optional shared expert (Qwen2-MoE) with a
     * sigmoid gate vector sharedGateInp [dim] and gate, up [sharedHidden, dim], down [dim, sharedHidden].
     */
    public record Moe(Tensor router, Tensor[] gate, Tensor[] up, Tensor[] down, Tensor sharedGateInp,
                      Tensor sharedGate, Tensor sharedUp, Tensor sharedDown) {
    }

    private final LlamaConfig config;
    private final Tensor embed;     // [vocab, dim]
    private final Layer[] layers;
    private final Tensor outNorm;   // [dim]
    private final Tensor output;    // [vocab, dim] (the embedding when tied)
    private final float[] invFreq;  // [ropeDim/2] RoPE frequencies ω'_i after any Llama 3 rescaling
    private final float[] ropeDivisors;  // [ropeDim/2] GGUF rope_freqs, or null
    private final Tensor[][] qkv;    // [layers][3] {wq, wk, wv}: one fused matmul on the same input
    private final Tensor[][] gateUp; // [layers][2] {gate, up}, or null entries for MoE layers

    /** Assembles a model from already validated parts. */
    public LlamaModel(LlamaConfig config, Tensor embed, Layer[] layers, Tensor outNorm, Tensor output) {
        this(config, embed, layers, outNorm, output, null);
    }

    /**
     * Assembles a model whose RoPE frequencies are divided per pair by {@code ropeDivisors} [ropeDim/2]
     * (GGUF {@code rope_freqs}: llama.cpp's encoding of Llama 3 scaling), or null for none.
     */
    public LlamaModel(LlamaConfig config, Tensor embed, Layer[] layers, Tensor outNorm, Tensor output,
                      float[] ropeDivisors) {
        if (layers.length != config.layers()) {
            throw new IllegalArgumentException("config has " + config.layers() + " layers, got " + layers.length);
        }
        for (int i = 0; i < layers.length; i++) {
            if ((layers[i].moe() != null) != config.isSparse(i)) {
                throw new IllegalArgumentException("layer " + i + ": config says "
                        + (config.isSparse(i) ? "MoE" : "dense") + " FFN, weights are " + (layers[i].moe() != null ? "MoE" : "dense"));
            }
        }
        float[] inv = config.ropeInvFreq();
        if (ropeDivisors != null) {
            if (ropeDivisors.length != inv.length) {
                throw new IllegalArgumentException("ropeDivisors has " + ropeDivisors.length + " entries, need ropeDim/2 = "
                        + inv.length);
            }
            for (int i = 0; i < inv.length; i++) {
                inv[i] = (float) ((double) inv[i] / ropeDivisors[i]);
            }
        }
        this.invFreq = inv;
        this.ropeDivisors = ropeDivisors == null ? null : ropeDivisors.clone();
        this.config = config;
        this.embed = embed;
        this.layers = layers.clone();
        this.qkv = new Tensor[layers.length][];
        this.gateUp = new Tensor[layers.length][];
        for (int i = 0; i < layers.length; i++) {
            Layer w = layers[i];
            qkv[i] = new Tensor[] {w.wq(), w.wk(), w.wv()};
            gateUp[i] = w.moe() == null ? new Tensor[] {w.gate(), w.up()} : null;
        }
        this.outNorm = outNorm;
        this.output = output;
    }

    /**
     * Loads a Llama-family model from GGUF (config from {@code <arch>.*} metadata, tensors by llama.cpp
     * names). The tensors are views of {@code file}'s mapping: keep the file open while using the model.
     *
     * @throws ModelFormatException if the architecture is unsupported or a tensor is missing or mis-shaped
     */
    public static LlamaModel load(GgufFile file) throws ModelFormatException {
        return load(file, file);
    }

    /**
     * As {@link #load(GgufFile)}, looking tensors up in {@code tensors} (the file itself or a decorator of
     * it such as {@link dev.interlayer.models.io.UsageTrackingWeightSource}); metadata and shapes come from
     * {@code file}.
     *
     * @throws ModelFormatException if the architecture is unsupported or a tensor is missing or mis-shaped
     */
    public static LlamaModel load(GgufFile file, WeightSource tensors) throws ModelFormatException {
        LlamaConfig c = LlamaConfig.fromGguf(file);
        Loader l = new Loader(file, tensors);
        int d = c.dim(), h = c.denseHiddenDim();
        Tensor embed = l.get("token_embd.weight", c.vocabSize(), d);
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "blk." + i + ".";
            layers[i] = new Layer(
                    l.get(p + "attn_norm.weight", d),
                    l.get(p + "attn_q.weight", c.qDim(), d),
                    l.get(p + "attn_k.weight", c.kvDim(), d),
                    l.get(p + "attn_v.weight", c.kvDim(), d),
                    l.get(p + "attn_output.weight", d, c.qDim()),
                    l.optional(p + "attn_q.bias", c.qDim()),
                    l.optional(p + "attn_k.bias", c.kvDim()),
                    l.optional(p + "attn_v.bias", c.kvDim()),
                    l.get(p + "ffn_norm.weight", d),
                    c.isSparse(i) ? null : l.get(p + "ffn_gate.weight", h, d),
                    c.isSparse(i) ? null : l.get(p + "ffn_up.weight", h, d),
                    c.isSparse(i) ? null : l.get(p + "ffn_down.weight", d, h),
                    c.isSparse(i) ? loadMoe(l, c, p) : null);
        }
        Tensor outNorm = l.get("output_norm.weight", d);
        Tensor output = tensors.contains("output.weight") ? l.get("output.weight", c.vocabSize(), d) : embed;
        float[] ropeDivisors = tensors.contains("rope_freqs.weight")
                ? l.get("rope_freqs.weight", c.ropeDim() / 2).contiguous().toFloatArray() : null;
        return new LlamaModel(c, embed, layers, outNorm, output, ropeDivisors);
    }

    /**
     * Loads a Llama-family model from a Hugging Face folder (LlamaForCausalLM, MistralForCausalLM,
     * Qwen2ForCausalLM, MixtralForCausalLM, Qwen2MoeForCausalLM): config from
     * {@link LlamaConfig#fromHuggingFace}, tensors by HF names ({@code model.layers.N.self_attn.q_proj.weight},
     * …; MoE names in {@link #loadMoe(Weights, LlamaConfig, String)}), half-split RoPE on the unpermuted Q/K
     * rows, q/k/v biases when present (Qwen2), head tied to the embedding when {@code tie_word_embeddings}
     * or {@code lm_head.weight} is absent. Keep the folder open while using the model.
     *
     * @throws ModelFormatException for an unsupported config or a missing/mis-shaped tensor
     */
    public static LlamaModel load(HfFolder folder) throws ModelFormatException {
        return load(folder, folder.weights());
    }

    /**
     * As {@link #load(HfFolder)}, looking tensors up in {@code tensors} ({@code folder.weights()} or a
     * decorator of it such as {@link dev.interlayer.models.io.UsageTrackingWeightSource}).
     *
     * @throws ModelFormatException for an unsupported config or a missing/mis-shaped tensor
     */
    public static LlamaModel load(HfFolder folder, WeightSource tensors) throws ModelFormatException {
        LlamaConfig c = HfJson.parseConfig(folder, LlamaConfig::fromHuggingFace, "llama-family config",
                "a supported llama/mistral/qwen2/mixtral/qwen2_moe config");
        Weights w = new Weights(tensors, folder.dir());
        int d = c.dim(), h = c.denseHiddenDim();
        Tensor embed = w.get("model.embed_tokens.weight", c.vocabSize(), d);
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            if (w.has(p + "self_attn.o_proj.bias")) {
                throw new ModelFormatException(folder.dir(), -1, "tensor '" + p + "self_attn.o_proj.bias'", "absent",
                        "present (output-projection bias is not supported)");
            }
            layers[i] = new Layer(
                    w.get(p + "input_layernorm.weight", d),
                    w.get(p + "self_attn.q_proj.weight", c.qDim(), d),
                    w.get(p + "self_attn.k_proj.weight", c.kvDim(), d),
                    w.get(p + "self_attn.v_proj.weight", c.kvDim(), d),
                    w.get(p + "self_attn.o_proj.weight", d, c.qDim()),
                    w.optional(p + "self_attn.q_proj.bias", c.qDim()),
                    w.optional(p + "self_attn.k_proj.bias", c.kvDim()),
                    w.optional(p + "self_attn.v_proj.bias", c.kvDim()),
                    w.get(p + "post_attention_layernorm.weight", d),   // the pre-FFN norm in Llama naming
                    c.isSparse(i) ? null : w.get(p + "mlp.gate_proj.weight", h, d),
                    c.isSparse(i) ? null : w.get(p + "mlp.up_proj.weight", h, d),
                    c.isSparse(i) ? null : w.get(p + "mlp.down_proj.weight", d, h),
                    c.isSparse(i) ? loadMoe(w, c, p) : null);
        }
        boolean tied = HfJson.getBoolean(folder.config(), "tie_word_embeddings", false) || !w.has("lm_head.weight");
        Tensor output = tied ? embed : w.get("lm_head.weight", c.vocabSize(), d);
        return new LlamaModel(c, embed, layers, w.get("model.norm.weight", d), output);
    }

    @Override
    public int hiddenSize() {
        return config.dim();
    }

    /** Last hidden states after the final RMSNorm ([T, dim] row-major), as HF's last_hidden_state. */
    @Override
    public float[] hiddenStates(int[] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("hiddenStates: no tokens");
        }
        State s = newSession(tokens.length);
        s.check(tokens, 0, tokens.length);
        int dim = config.dim();
        float[] out = new float[Math.multiplyExact(tokens.length, dim)];
        Tensor all = Tensor.wrap(out, Shape.of(tokens.length, dim));
        for (int done = 0; done < tokens.length; done += s.chunk) {
            int t = Math.min(s.chunk, tokens.length - done);
            forwardChunk(s, tokens, done, t, true);
            all.slice(0, done, done + t).copyFrom(s.views(t).xb);                 // normed rows of the chunk
        }
        return out;
    }

    /**
     * MoE weights of HF layer prefix {@code p}: Mixtral {@code block_sparse_moe.gate} (router) and
     * {@code block_sparse_moe.experts.N.w1/w3/w2} (gate/up/down); Qwen2-MoE {@code mlp.gate},
     * {@code mlp.experts.N.gate_proj/up_proj/down_proj}, {@code mlp.shared_expert.*} and
     * {@code mlp.shared_expert_gate} ([1, dim], an nn.Linear(dim, 1), read as [dim]).
     */
    private static Moe loadMoe(Weights w, LlamaConfig c, String p) throws ModelFormatException {
        int e = c.experts(), d = c.dim(), h = c.hiddenDim(), sh = c.sharedHiddenDim();
        boolean mixtral = !c.arch().equals("qwen2moe");
        String router = mixtral ? p + "block_sparse_moe.gate.weight" : p + "mlp.gate.weight";
        String ex = mixtral ? p + "block_sparse_moe.experts." : p + "mlp.experts.";
        String gate = mixtral ? ".w1.weight" : ".gate_proj.weight";
        String up = mixtral ? ".w3.weight" : ".up_proj.weight";
        String down = mixtral ? ".w2.weight" : ".down_proj.weight";
        Tensor[] ge = new Tensor[e], ue = new Tensor[e], de = new Tensor[e];
        for (int i = 0; i < e; i++) {
            ge[i] = w.get(ex + i + gate, h, d);
            ue[i] = w.get(ex + i + up, h, d);
            de[i] = w.get(ex + i + down, d, h);
        }
        boolean shared = sh > 0;
        String s = p + "mlp.shared_expert.";
        return new Moe(w.get(router, e, d), ge, ue, de,
                shared ? w.get(p + "mlp.shared_expert_gate.weight", 1, d).reshape(Shape.of(d)) : null,
                shared ? w.get(s + "gate_proj.weight", sh, d) : null,
                shared ? w.get(s + "up_proj.weight", sh, d) : null,
                shared ? w.get(s + "down_proj.weight", d, sh) : null);
    }

    private static Moe loadMoe(Loader l, LlamaConfig c, String p) throws ModelFormatException {
        int e = c.experts(), d = c.dim(), h = c.hiddenDim(), sh = c.sharedHiddenDim();
        Tensor g = l.get(p + "ffn_gate_exps.weight", e, h, d);
        Tensor u = l.get(p + "ffn_up_exps.weight", e, h, d);
        Tensor dn = l.get(p + "ffn_down_exps.weight", e, d, h);
        Tensor[] ge = new Tensor[e], ue = new Tensor[e], de = new Tensor[e];
        for (int i = 0; i < e; i++) {
            ge[i] = g.select(0, i);
            ue[i] = u.select(0, i);
            de[i] = dn.select(0, i);
        }
        boolean shared = sh > 0;
        return new Moe(l.get(p + "ffn_gate_inp.weight", e, d), ge, ue, de,
                shared ? l.vector(p + "ffn_gate_inp_shexp.weight", d) : null,
                shared ? l.get(p + "ffn_gate_shexp.weight", sh, d) : null,
                shared ? l.get(p + "ffn_up_shexp.weight", sh, d) : null,
                shared ? l.get(p + "ffn_down_shexp.weight", d, sh) : null);
    }

    /** Looks tensors up by GGUF name in {@code src} and checks their shapes against {@code file}'s tensor infos. */
    private record Loader(GgufFile file, WeightSource src) {
        Tensor get(String name, int... dims) throws ModelFormatException {
            if (!src.contains(name)) {
                throw new ModelFormatException(file.path(), -1, "tensor '" + name + "'", "present",
                        "absent (closest: " + WeightSource.closest(file.names(), name, 3) + ")");
            }
            Shape want = Shape.of(dims);
            Shape got = file.info(name).shape();
            if (!got.equals(want)) {
                throw new ModelFormatException(file.path(), file.info(name).infoOffset(), "tensor '" + name + "' shape",
                        want + " (outermost first)", got.toString());
            }
            try {
                return src.tensor(name);
            } catch (UnsupportedOperationException e) {
                throw new ModelFormatException(file.path(), file.info(name).infoOffset(), "tensor '" + name + "' type",
                        "F32, F16 or BF16", file.info(name).type() + " (quantized weights are not supported yet)");
            }
        }

        Tensor optional(String name, int... dims) throws ModelFormatException {
            return src.contains(name) ? get(name, dims) : null;
        }

        // a [n] vector that a converter may also store as [1, n]
        Tensor vector(String name, int n) throws ModelFormatException {
            boolean twoD = src.contains(name) && file.info(name).shape().equals(Shape.of(1, n));
            return twoD ? get(name, 1, n).reshape(Shape.of(n)) : get(name, n);
        }
    }

    /** The hyperparameters. */
    public LlamaConfig config() {
        return config;
    }

    /** The same weights under another config of equal geometry (tests: e.g. another sliding window). */
    LlamaModel withConfig(LlamaConfig other) {
        return new LlamaModel(other, embed, layers, outNorm, output, ropeDivisors);
    }

    /** Layer weights (for inspection and tests). */
    public Layer layer(int i) {
        return layers[i];
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    @Override
    public int contextLength() {
        return config.contextLength();
    }

    @Override
    public State newSession(int maxTokens) {
        return new State(this, maxTokens, DEFAULT_CHUNK);
    }

    /** A session with an explicit prefill chunk size (≥ 1). */
    public State newSession(int maxTokens, int chunk) {
        return new State(this, maxTokens, chunk);
    }

    // ------------------------------------------------------------------------------------------
    // Forward pass
    // ------------------------------------------------------------------------------------------

    /**
     * Runs T = {@code len} tokens at positions [s.pos, s.pos + T) through the network, appending their
     * keys/values to the cache. Writes logits of every row to {@code s.logitsAll} when {@code all}, else
     * of the last row to {@code s.logits}.
     */
    private void forwardChunk(State s, int[] tokens, int off, int len, boolean all) {
        final LlamaConfig c = config;
        final int dim = c.dim(), kvDim = c.kvDim();
        final State.Views v = s.views(len);
        final int pos0 = s.pos;

        // x[t] = embed[token t]                                                       [T, dim]
        for (int t = 0; t < len; t++) {
            long row = (long) tokens[off + t] * dim;
            for (int i = 0; i < dim; i++) {
                s.x[t * dim + i] = embed.readFloat(row + i);
            }
        }
        for (int l = 0; l < layers.length; l++) {
            Layer w = layers[l];
            // ---- attention ----
            Ops.rmsNorm(v.x, w.attnNorm, c.rmsNormEps(), false, v.xb);
            Ops.matmulT(v.xb, qkv[l], v.qkv);                                      // q [T, qDim], k, v [T, kvDim]
            if (w.bq != null) {
                Ops.add(v.q, w.bq, v.q);
            }
            if (w.bk != null) {
                Ops.add(v.k, w.bk, v.k);
            }
            if (w.bv != null) {
                Ops.add(v.v, w.bv, v.v);
            }
            s.rope(s.q, len, c.heads(), pos0);
            s.rope(s.k, len, c.kvHeads(), pos0);
            s.store(l, pos0, len);                                                 // cache[pos0 + t] = k[t], v[t]
            s.layer = l;
            s.chunkLen = len;
            s.chunkPos = pos0;
            s.headChunks = Math.min(c.heads(), 2 * ComputePool.threads());         // few, larger tasks
            ComputePool.parallelFor(s.headChunks, s.attendHeads);                  // s.att [T, qDim]
            Ops.matmulT(v.att, w.wo, v.xb);                                        // [T, dim]
            Ops.add(v.x, v.xb, v.x);
            // ---- feed-forward (SwiGLU) ----
            Ops.rmsNorm(v.x, w.ffnNorm, c.rmsNormEps(), false, v.xb);
            if (w.moe == null) {
                Ops.matmulT(v.xb, gateUp[l], v.gateUp);                            // gate, up [T, hidden]
                Ops.unary(Unary.SILU, v.gate, v.gate);
                Ops.mul(v.gate, v.up, v.gate);
                Ops.matmulT(v.gate, w.down, v.ffnOut);                             // [T, dim]
                Ops.add(v.x, v.ffnOut, v.x);
            } else {
                moe(s, v, w.moe, len);
            }
        }
        if (all) {
            Ops.rmsNorm(v.x, outNorm, c.rmsNormEps(), false, v.xb);                // hidden states [T, dim]
            if (v.logitsAll != null) {
                Ops.matmulT(v.xb, output, v.logitsAll);                            // [T, vocab]
            }
        } else {
            Ops.rmsNorm(v.lastX, outNorm, c.rmsNormEps(), false, s.views(1).xb);
            Ops.matmulT(s.views(1).xb, output, s.logitsRow);                       // [1, vocab]
        }
        s.pos += len;
    }

    /** out = (silu(h·gateᵀ) ⊙ h·upᵀ)·downᵀ. Shapes: h [T, dim]; g, u scratch [T, hidden]; out [T, dim]. */
    private static void swiGlu(Tensor h, Tensor gate, Tensor up, Tensor down, Tensor g, Tensor u, Tensor out) {
        Ops.matmulT(h, gate, g);
        Ops.matmulT(h, up, u);
        Ops.unary(Unary.SILU, g, g);
        Ops.mul(g, u, g);
        Ops.matmulT(g, down, out);
    }

    /**
     * x += Σ_{e ∈ topk(p)} w_e·FFN_e(h) (+ σ(h·s)·FFN_shared(h)), p = softmax(h·routerᵀ); Mixtral
     * renormalises the selected w_e to sum to 1, Qwen2-MoE uses the raw probabilities. h is v.xb.
     */
    private void moe(State s, State.Views v, Moe m, int len) {
        final LlamaConfig c = config;
        final int dim = c.dim(), e = c.experts(), k = c.expertsUsed();
        final boolean normalize = c.moeNormalizesTopK();
        final float[] p = s.router;
        for (int t = 0; t < len; t++) {
            State.RowViews r = s.rowViews[t];                                           // views of row t
            Ops.matmulT(r.xb, m.router(), s.routerRow);                             // [1, experts]
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < e; i++) {
                max = Math.max(max, p[i]);
            }
            double sum = 0;
            for (int i = 0; i < e; i++) {
                p[i] = (float) Math.exp(p[i] - max);
                sum += p[i];
            }
            for (int i = 0; i < e; i++) {
                p[i] /= (float) sum;
            }
            // top-k by probability, ties to the lower index (selection sort: k and e are small)
            double selected = 0;
            for (int j = 0; j < k; j++) {
                int best = -1;
                for (int i = 0; i < e; i++) {
                    if (!s.chosen[i] && (best < 0 || p[i] > p[best])) {
                        best = i;
                    }
                }
                s.chosen[best] = true;
                s.topk[j] = best;
                selected += p[best];
            }
            for (int j = 0; j < k; j++) {
                int ex = s.topk[j];
                s.chosen[ex] = false;
                float weight = normalize ? (float) (p[ex] / selected) : p[ex];
                swiGlu(r.xb, m.gate()[ex], m.up()[ex], m.down()[ex], r.gateExpert, r.upExpert, r.ffnOut);
                Ops.axpy(weight, s.ffnOut, t * dim, s.x, t * dim, dim);
            }
        }
        if (m.sharedGate() != null) {
            swiGlu(v.xb, m.sharedGate(), m.sharedUp(), m.sharedDown(), v.gateShared, v.upShared, v.ffnOut);
            for (int t = 0; t < len; t++) {
                float z = 0;
                for (int i = 0; i < dim; i++) {
                    z += s.xb[t * dim + i] * m.sharedGateInp().readFloat(i);
                }
                float gate = (float) (1.0 / (1.0 + Math.exp(-z)));
                Ops.axpy(gate, s.ffnOut, t * dim, s.x, t * dim, dim);
            }
        }
    }

    /**
     * Causal attention of query head h for every row of the current chunk:
     * att[t, h] = Σ_j softmax_j(q[t,h]·k[j,g] / √hd) v[j,g] over cached positions lo ≤ j ≤ p = pos0 + t, where
     * lo = 0, or max(0, p − w + 1) in a layer with sliding window w. Position j lives in cache slot j mod slots
     * (a ring for windowed layers; slots = capacity, so slot = j, for the others).
     */
    private void attendHead(State s, int h) {
        final int hd = config.headDim(), kvDim = config.kvDim(), qDim = config.qDim();
        final int g = h / config.groupSize();
        final float scale = (float) (1.0 / Math.sqrt(hd));
        final float[] kc = s.keyCache[s.layer], vc = s.valueCache[s.layer];
        final int window = s.window[s.layer], slots = s.slots[s.layer];
        final float[] scores = s.scores[h];
        for (int t = 0; t < s.chunkLen; t++) {
            int qOff = t * qDim + h * hd;
            int p = s.chunkPos + t;
            int lo = window > 0 ? Math.max(0, p - window + 1) : 0;
            int n = p + 1 - lo;                              // visible keys lo..p, scores[j - lo]
            int slot0 = lo % slots;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0, slot = slot0; j < n; j++, slot = slot + 1 == slots ? 0 : slot + 1) {
                float sc = Ops.dot(s.q, qOff, kc, slot * kvDim + g * hd, hd) * scale;
                scores[j] = sc;
                max = Math.max(max, sc);
            }
            double sum = 0;
            for (int j = 0; j < n; j++) {
                float e = (float) Math.exp(scores[j] - max);
                scores[j] = e;
                sum += e;
            }
            float inv = (float) (1.0 / sum);
            java.util.Arrays.fill(s.att, qOff, qOff + hd, 0f);
            for (int j = 0, slot = slot0; j < n; j++, slot = slot + 1 == slots ? 0 : slot + 1) {
                Ops.axpy(scores[j] * inv, vc, slot * kvDim + g * hd, s.att, qOff, hd);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Session state
    // ------------------------------------------------------------------------------------------

    /**
     * Activations, KV cache and RoPE tables of one sequence, all allocated here so that decoding a
     * token allocates nothing. Buffer shapes in comments; T ≤ chunk is the rows of the current chunk.
     *
     * <p>KV cache: a layer with full attention holds one slot per position (capacity slots). A layer with
     * sliding window w holds a ring of min(capacity, w − 1 + chunk) slots, position p in slot p mod slots: a
     * chunk of T ≤ chunk rows writes its keys before attending, and its first query still needs the w − 1
     * positions before the chunk, so w − 1 + T slots never overwrite a key that is still visible. Memory is
     * then bounded by the window, not by the session length.
     */
    public static final class State implements CausalLM.Session {
        private final LlamaModel model;
        private final int capacity, chunk;
        final float[] x, xb;          // [chunk, dim] residual stream, normed/projected scratch
        final float[] q, att;         // [chunk, qDim] queries, attention output
        final float[] k, v;           // [chunk, kvDim]
        final float[] gate, up;       // [chunk, max(hidden, sharedHidden)]
        final float[] ffnOut;         // [chunk, dim] FFN / expert output
        final float[] router;         // [experts] router probabilities (MoE)
        final Tensor routerRow;       // [1, experts] view of router
        final boolean[] chosen;       // [experts] scratch for top-k
        final int[] topk;             // [expertsUsed]
        final RowViews[] rowViews;    // per row t of a chunk (MoE routes each token separately)
        final float[][] keyCache, valueCache;   // [layers][slots[l] * kvDim]
        final int[] window;           // [layers] sliding window of the layer, 0 = full attention
        final int[] slots;            // [layers] cache slots: capacity, or the ring size of a windowed layer
        final float[][] scores;       // [heads][max visible keys] attention weights, one row per head (parallel)
        final float[] logits;         // [vocab]
        final Tensor logitsRow;       // [1, vocab] view of logits
        final float[] cos, sin;       // [capacity, ropeDim/2]
        private final Views[] views;  // per chunk length T, created on first use
        final IntConsumer attendHeads;          // part p → attendHead for heads [heads·p/n, heads·(p+1)/n)
        int pos, layer, chunkLen, chunkPos, headChunks;

        State(LlamaModel model, int maxTokens, int chunk) {
            LlamaConfig c = model.config;
            if (maxTokens < 1 || chunk < 1) {
                throw new IllegalArgumentException("maxTokens and chunk must be >= 1, got " + maxTokens + ", " + chunk);
            }
            // Positions past the trained context would be silently extrapolated (RoPE), and the KV cache
            // would be sized by an unchecked argument: refuse, as DecoderLM does.
            if (maxTokens > c.contextLength()) {
                throw new IllegalArgumentException("session of " + maxTokens + " positions exceeds the model's context"
                        + " length " + c.contextLength());
            }
            this.model = model;
            this.capacity = maxTokens;
            this.chunk = Math.min(chunk, maxTokens);
            int ch = this.chunk;
            x = new float[ch * c.dim()];
            xb = new float[ch * c.dim()];
            q = new float[ch * c.qDim()];
            att = new float[ch * c.qDim()];
            k = new float[ch * c.kvDim()];
            v = new float[ch * c.kvDim()];
            int ffw = Math.max(Math.max(c.hiddenDim(), c.sharedHiddenDim()), c.denseHiddenDim());
            gate = new float[ch * ffw];
            up = new float[ch * ffw];
            ffnOut = new float[ch * c.dim()];
            router = new float[Math.max(1, c.experts())];
            routerRow = Tensor.wrap(router, Shape.of(1, router.length));
            chosen = new boolean[router.length];
            topk = new int[c.expertsUsed()];
            rowViews = new RowViews[c.experts() > 0 ? ch : 0];
            for (int t = 0; t < rowViews.length; t++) {
                rowViews[t] = new RowViews(t);
            }
            window = new int[c.layers()];
            slots = new int[c.layers()];
            keyCache = new float[c.layers()][];
            valueCache = new float[c.layers()][];
            int maxKeys = 1;
            for (int l = 0; l < c.layers(); l++) {
                window[l] = c.windowOf(l);
                slots[l] = window[l] > 0 ? (int) Math.min(maxTokens, window[l] - 1L + ch) : maxTokens;
                keyCache[l] = new float[Math.multiplyExact(slots[l], c.kvDim())];
                valueCache[l] = new float[Math.multiplyExact(slots[l], c.kvDim())];
                maxKeys = Math.max(maxKeys, window[l] > 0 ? Math.min(window[l], maxTokens) : maxTokens);
            }
            scores = new float[c.heads()][maxKeys];
            logits = new float[c.vocabSize()];
            logitsRow = Tensor.wrap(logits, Shape.of(1, c.vocabSize()));
            int half = c.ropeDim() / 2;
            cos = new float[maxTokens * half];
            sin = new float[maxTokens * half];
            float[] inv = model.invFreq;
            for (int p = 0; p < maxTokens; p++) {
                for (int i = 0; i < half; i++) {
                    double ang = (double) p * c.ropeScale() * inv[i];
                    cos[p * half + i] = (float) Math.cos(ang);
                    sin[p * half + i] = (float) Math.sin(ang);
                }
            }
            views = new Views[ch + 1];
            int heads = c.heads();
            attendHeads = part -> {
                for (int h = heads * part / headChunks, h1 = heads * (part + 1) / headChunks; h < h1; h++) {
                    model.attendHead(this, h);
                }
            };
        }

        /** Tensor views of the buffers for a chunk of T rows (cached, so steady-state decode allocates nothing). */
        final class Views {
            final Tensor x, xb, q, att, k, v, gate, up, ffnOut, gateShared, upShared, lastX;
            final Tensor[] qkv, gateUp;     // {q, k, v} and {gate, up}: outputs of the fused projections
            Tensor logitsAll;

            Views(int t) {
                LlamaConfig c = model.config;
                x = view(State.this.x, t, c.dim());
                xb = view(State.this.xb, t, c.dim());
                q = view(State.this.q, t, c.qDim());
                att = view(State.this.att, t, c.qDim());
                k = view(State.this.k, t, c.kvDim());
                v = view(State.this.v, t, c.kvDim());
                gate = view(State.this.gate, t, c.denseHiddenDim());     // dense layers only (MoE: RowViews)
                up = view(State.this.up, t, c.denseHiddenDim());
                ffnOut = view(State.this.ffnOut, t, c.dim());
                int sh = Math.max(1, c.sharedHiddenDim());
                gateShared = view(State.this.gate, t, sh);
                upShared = view(State.this.up, t, sh);
                lastX = x.slice(0, t - 1, t);
                qkv = new Tensor[] {q, k, v};
                gateUp = new Tensor[] {gate, up};
            }
        }

        /** [1, n] views of row t (xb, ffnOut) and of row 0 of the expert scratch (gate, up). */
        final class RowViews {
            final Tensor xb, ffnOut, gateExpert, upExpert;

            RowViews(int t) {
                LlamaConfig c = model.config;
                xb = view(State.this.xb, t + 1, c.dim()).slice(0, t, t + 1);
                ffnOut = view(State.this.ffnOut, t + 1, c.dim()).slice(0, t, t + 1);
                gateExpert = view(State.this.gate, 1, c.hiddenDim());
                upExpert = view(State.this.up, 1, c.hiddenDim());
            }
        }

        /** The first {@code rows} rows of {@code a} seen as [rows, cols] (a holds at least rows·cols floats). */
        private static Tensor view(float[] a, int rows, int cols) {
            // a.length need not be a multiple of cols (gate/up hold max(hidden, sharedHidden) per row)
            return Tensor.wrap(a).slice(0, 0, rows * cols).reshape(Shape.of(rows, cols));
        }

        Views views(int t) {
            Views w = views[t];
            if (w == null) {
                w = new Views(t);
                views[t] = w;
            }
            return w;
        }

        /** Writes k, v rows [0, T) (positions pos0 + t) to layer l's cache slots (pos0 + t) mod slots[l]. */
        void store(int l, int pos0, int len) {
            int kvDim = model.config.kvDim(), n = slots[l];
            for (int done = 0; done < len; ) {
                int slot = (pos0 + done) % n;
                int run = Math.min(len - done, n - slot);               // rows until the ring wraps
                System.arraycopy(k, done * kvDim, keyCache[l], slot * kvDim, run * kvDim);
                System.arraycopy(v, done * kvDim, valueCache[l], slot * kvDim, run * kvDim);
                done += run;
            }
        }

        /** Sliding window of each layer (0 = full attention), as applied by this session. */
        public int window(int layer) {
            return window[layer];
        }

        /** KV-cache slots (positions held) of each layer: capacity, or the ring size of a windowed layer. */
        public int cacheSlots(int layer) {
            return slots[layer];
        }

        /**
         * Rolls the session back to {@code position} ≤ {@link #position()}: the next token is fed at that
         * position and the keys/values at positions ≥ it are forgotten.
         *
         * @throws IllegalArgumentException if position is negative or past the current position
         * @throws IllegalStateException    if a windowed layer's ring no longer holds the w − 1 positions
         *                                  before {@code position} that the next query must see
         */
        @Override
        public void truncate(int position) {
            if (position < 0 || position > pos) {
                throw new IllegalArgumentException("truncate: position " + position + " outside [0, " + pos + "]");
            }
            for (int l = 0; l < slots.length; l++) {
                int oldest = Math.max(0, pos - slots[l]);                      // earliest position still in the ring
                int needed = window[l] > 0 ? Math.max(0, position - window[l] + 1) : 0;
                if (oldest > needed) {
                    throw new IllegalStateException("truncate to " + position + ": layer " + l + " (sliding window "
                            + window[l] + ", " + slots[l] + " cache slots) needs positions from " + needed
                            + " but holds only " + oldest + ".." + (pos - 1));
                }
            }
            pos = position;
        }

        /** Rotates each head of rows [0, T) of {@code a} ([T, heads·hd]) by its position pos0 + t, in place. */
        void rope(float[] a, int rows, int heads, int pos0) {
            LlamaConfig c = model.config;
            int hd = c.headDim(), half = c.ropeDim() / 2;
            boolean interleaved = c.ropePairing() == Rope.Pairing.INTERLEAVED;
            for (int t = 0; t < rows; t++) {
                int tab = (pos0 + t) * half;
                for (int h = 0; h < heads; h++) {
                    int base = (t * heads + h) * hd;
                    for (int i = 0; i < half; i++) {
                        int i0 = interleaved ? base + 2 * i : base + i;
                        int i1 = interleaved ? i0 + 1 : i0 + half;
                        float cs = cos[tab + i], sn = sin[tab + i];
                        float a0 = a[i0], a1 = a[i1];
                        a[i0] = a0 * cs - a1 * sn;
                        a[i1] = a0 * sn + a1 * cs;
                    }
                }
            }
        }

        @Override
        public int position() {
            return pos;
        }

        @Override
        public int capacity() {
            return capacity;
        }

        @Override
        public float[] append(int[] tokens, int off, int len) {
            check(tokens, off, len);
            for (int done = 0; done < len; done += chunk) {
                forward(tokens, off + done, Math.min(chunk, len - done), false);
            }
            return logits;
        }

        @Override
        public float[] appendAll(int[] tokens, int off, int len) {
            check(tokens, off, len);
            int vocab = model.config.vocabSize();
            float[] out = new float[Math.multiplyExact(len, vocab)];
            for (int done = 0; done < len; done += chunk) {
                int t = Math.min(chunk, len - done);
                Views w = views(t);
                w.logitsAll = Tensor.wrap(out, Shape.of(len, vocab)).slice(0, done, done + t);
                forward(tokens, off + done, t, true);
                w.logitsAll = null;
            }
            return out;
        }

        /**
         * One chunk, run through ComputePool.run: on the pool with several threads (its kernels' loops then split
         * there), directly with one. The pass is a reusable object, not a lambda: decode allocates nothing.
         */
        private void forward(int[] tokens, int off, int len, boolean all) {
            passTokens = tokens;                                     // the arguments of passOnPool
            passOff = off;
            passLen = len;
            passAll = all;
            try {
                ComputePool.run(passOnPool);
            } finally {
                passTokens = null;
            }
        }

        // The pool-side pass of forward(), one object per session instead of one lambda per chunk.
        private int[] passTokens;
        private int passOff, passLen;
        private boolean passAll;
        private final Runnable passOnPool = this::runPass;

        private void runPass() {
            model.forwardChunk(this, passTokens, passOff, passLen, passAll);
        }

        void check(int[] tokens, int off, int len) {
            CausalLM.checkAppend(tokens, off, len, pos, capacity, model.config.vocabSize());
        }

        @Override
        public void reset() {
            pos = 0;
        }
    }
}
