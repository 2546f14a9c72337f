package dev.interlayer.nn;

import dev.interlayer.nn.moe.MoeConfig;
import dev.interlayer.nn.moe.MoeFeedForward;
import dev.interlayer.nn.moe.SharedExperts;
import dev.interlayer.nn.plan.OutputHead;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.quant.Quantizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Small random decoder stacks shaped like each family {@link DecoderStack} serves, for the batched-decode
 * tests: odd widths (so every product has a k tail below a whole vector) and the mechanism that sets the
 * family apart. Llama (GQA, RoPE, SwiGLU), Qwen2 (QKV biases, a sliding-window layer kept as a ring),
 * Gemma 2 (PERI norms with 1 + w gains, GeGLU, attention and final-logit soft-caps, embedding scale,
 * local/global layers), OLMo 2 (OUTPUT norms, flat QK-norm), GPT-2 (LayerNorm, learned positions, biased
 * GELU MLP) and a Qwen2-MoE-like top-2 MoE with a gated shared expert.
 */
final class BatchFamilies {
    static final String[] NAMES = {"llama", "qwen2-window", "gemma2", "olmo2", "gpt2", "moe"};
    static final int VOCAB = 61, CONTEXT = 64;
    private static final int D = 37, HEADS = 4, HEAD_DIM = 10, FFN = 53;
    /** Head dimension of {@link #build(String, long, int)} stacks that a Q8_0 KV cache accepts (whole blocks). */
    static final int BLOCK_HEAD_DIM = 32;

    private BatchFamilies() {
    }

    /** A stack and its LM head. */
    record Model(DecoderStack stack, OutputHead head) {
    }

    static Model build(String family, long seed) {
        return build(family, seed, HEAD_DIM);
    }

    /** As {@link #build(String, long)} with head dimension {@code headDim} (d stays 37). */
    static Model build(String family, long seed, int headDim) {
        if (family.startsWith("quant-")) {
            return quantized(DType.valueOf(family.substring(6)), seed);
        }
        RandomLayers r = new RandomLayers(seed);
        AttentionConfig base = AttentionConfig.builder(D, HEADS, CONTEXT).headDim(headDim).kvHeads(2)
                .rope(RopeConfig.of(10000)).build();
        List<TransformerBlock> blocks = new ArrayList<>();
        Embedding embedding = new Embedding(r.gaussian(1.0, 0.0, VOCAB, D));
        LearnedPositions positions = null;
        Norm finalNorm = r.rms(D);
        float softcap = 0f;
        for (int l = 0; l < 2; l++) {
            switch (family) {
                case "llama" -> blocks.add(r.block(BlockConfig.of(base, NormPlacement.PRE), r.swiGlu(D, FFN)));
                case "qwen2-window" -> {
                    AttentionConfig ac = l == 0 ? base.toBuilder().window(4).build() : base;
                    Attention a = r.attention(ac);
                    Attention biased = new Attention(ac, new Linear(a.wq().weight(), r.gaussian(0.5, 0, ac.qDim())),
                            new Linear(a.wk().weight(), r.gaussian(0.5, 0, ac.kvDim())),
                            new Linear(a.wv().weight(), r.gaussian(0.5, 0, ac.kvDim())), a.wo());
                    blocks.add(new TransformerBlock(BlockConfig.of(ac, NormPlacement.PRE), r.rms(D), biased, null,
                            r.rms(D), r.swiGlu(D, FFN), null));
                }
                case "gemma2" -> {
                    AttentionConfig ac = base.toBuilder().softcap(50f).window(l == 0 ? 5 : 0).build();
                    GatedMlp geglu = new GatedMlp(r.linear(FFN, D), r.linear(FFN, D), r.linear(D, FFN),
                            Activation.GELU_TANH);
                    blocks.add(new TransformerBlock(BlockConfig.of(ac, NormPlacement.PERI), gemmaNorm(r),
                            r.attention(ac), gemmaNorm(r), gemmaNorm(r), geglu, gemmaNorm(r)));
                    embedding = new Embedding(embedding.table(), (float) Math.sqrt(D));
                    softcap = 3f;
                }
                case "olmo2" -> blocks.add(r.block(BlockConfig.of(base.toBuilder().qkNorm(QkNorm.FLAT).build(),
                        NormPlacement.OUTPUT), r.swiGlu(D, FFN)));
                case "gpt2" -> {
                    AttentionConfig ac = AttentionConfig.builder(D, HEADS, CONTEXT).headDim(headDim).build();
                    Attention a = r.attention(ac);
                    Attention biased = new Attention(ac, new Linear(a.wq().weight(), r.gaussian(0.5, 0, ac.qDim())),
                            new Linear(a.wk().weight(), r.gaussian(0.5, 0, ac.kvDim())),
                            new Linear(a.wv().weight(), r.gaussian(0.5, 0, ac.kvDim())),
                            new Linear(a.wo().weight(), r.gaussian(0.5, 0, D)));
                    Mlp mlp = new Mlp(new Linear(r.weight(FFN, D), r.gaussian(0.5, 0, FFN)),
                            new Linear(r.weight(D, FFN), r.gaussian(0.5, 0, D)), Activation.GELU_TANH);
                    blocks.add(new TransformerBlock(BlockConfig.of(ac, NormPlacement.PRE), layerNorm(r), biased, null,
                            layerNorm(r), mlp, null));
                    positions = new LearnedPositions(r.gaussian(0.5, 0, CONTEXT, D));
                    finalNorm = layerNorm(r);
                }
                case "moe" -> {
                    List<FeedForward> experts = new ArrayList<>();
                    for (int e = 0; e < 4; e++) {
                        experts.add(r.swiGlu(D, FFN));
                    }
                    MoeFeedForward moe = new MoeFeedForward(new MoeConfig(D, 4, 2, true, SharedExperts.GATED),
                            r.linear(4, D), experts, r.swiGlu(D, FFN), r.linear(1, D));
                    blocks.add(r.block(BlockConfig.of(base, NormPlacement.PRE), moe));
                }
                default -> throw new IllegalArgumentException(family);
            }
        }
        DecoderStack stack = new DecoderStack(embedding, positions, null, blocks, finalNorm);
        return new Model(stack, new OutputHead(r.linear(VOCAB, D), softcap));
    }

    /**
     * A two-layer Llama-like stack (d = 64, f = 96: whole blocks of 32) whose block linears are stored in the
     * GGML block format {@code type} (round to nearest, {@link Quantizer}), as a quantized GGUF loads them.
     */
    static Model quantized(DType type, long seed) {
        RandomLayers r = new RandomLayers(seed);
        int d = 64, f = 96;
        AttentionConfig ac = AttentionConfig.builder(d, 4, CONTEXT).kvHeads(2).rope(RopeConfig.of(10000)).build();
        List<TransformerBlock> blocks = new ArrayList<>();
        for (int l = 0; l < 2; l++) {
            Attention a = r.attention(ac);
            GatedMlp g = r.swiGlu(d, f);
            blocks.add(new TransformerBlock(BlockConfig.of(ac, NormPlacement.PRE), r.rms(d),
                    new Attention(ac, quantize(a.wq(), type), quantize(a.wk(), type), quantize(a.wv(), type),
                            quantize(a.wo(), type)), null, r.rms(d),
                    GatedMlp.swiGlu(quantize(g.gate(), type), quantize(g.up(), type), quantize(g.down(), type)), null));
        }
        DecoderStack stack = new DecoderStack(new Embedding(r.gaussian(1.0, 0.0, VOCAB, d)), null, null, blocks,
                r.rms(d));
        return new Model(stack, new OutputHead(r.linear(VOCAB, d)));
    }

    private static Linear quantize(Linear lin, DType type) {
        Tensor w = lin.weight(), q = Tensor.zeros(type, w.shape());
        int k = lin.in();
        float[] v = w.toFloatArray();
        for (int j = 0; j < lin.out(); j++) {
            Quantizer.quantizeRow(type, v, j * k, k, q.segment(), q.byteOffset() + (long) j * type.byteSize(k));
        }
        return new Linear(q);
    }

    private static Norm gemmaNorm(RandomLayers r) {
        return new RmsNorm(r.gaussian(0.2, 0.0, D), 1e-6f, true);
    }

    private static Norm layerNorm(RandomLayers r) {
        return new LayerNorm(r.gaussian(0.2, 1.0, D), r.gaussian(0.1, 0, D), 1e-5f);
    }

    /**
     * Runs the scenario of the batched-decode tests on one family: sequences with prompts of different lengths
     * (so every sequence sits at its own position), then steps in which a changing subset of them advances
     * together through {@link BatchDecoder} while twin sessions advance alone through
     * {@link DecoderStack#decode}; returns the largest |batched − alone| over the logits of every step (0 when bit-identical; NaN propagates as NaN).
     */
    static double maxBatchVsAlone(String family) {
        return maxBatchVsAlone(family, KvType.F32);
    }

    /** As {@link #maxBatchVsAlone(String)} with every session's KV cache stored in {@code kv}. */
    static double maxBatchVsAlone(String family, KvType kv) {
        Model model = kv == KvType.F32 ? build(family, 0xBA7C4L ^ family.hashCode())
                : build(family, 0xBA7C4L ^ family.hashCode(), BLOCK_HEAD_DIM);
        DecoderStack stack = model.stack();
        int seqs = 5, steps = 7;
        StackSession[] batched = new StackSession[seqs], alone = new StackSession[seqs];
        for (int i = 0; i < seqs; i++) {
            int[] prompt = new int[1 + 3 * i];
            for (int p = 0; p < prompt.length; p++) {
                prompt[p] = (13 * p + 7 * i + 1) % VOCAB;
            }
            batched[i] = stack.newSession(CONTEXT, 16, false, kv);
            alone[i] = stack.newSession(CONTEXT, 16, false, kv);
            stack.forward(prompt, batched[i]);
            stack.forward(prompt, alone[i]);
        }
        BatchDecoder decoder = new BatchDecoder(stack, seqs);
        Tensor logits = Tensor.zeros(seqs, VOCAB), one = Tensor.zeros(1, VOCAB);
        int[] tokens = new int[seqs];
        StackSession[] group = new StackSession[seqs];
        double worst = 0;
        for (int step = 0; step < steps; step++) {
            int n = 1 + step % seqs;   // batch sizes 1..5, rotating over which sequences take part
            for (int j = 0; j < n; j++) {
                int i = (step + 2 * j) % seqs;
                group[j] = batched[i];
                tokens[j] = (step * 11 + i * 5 + 3) % VOCAB;
            }
            Tensor got = decoder.decode(tokens, group, n, model.head(), logits);
            for (int j = 0; j < n; j++) {
                int i = (step + 2 * j) % seqs;
                Tensor h = stack.decode(tokens[j], alone[i]);
                model.head().logits(h, one);
                worst = worst(worst, got.slice(0, j, j + 1).toFloatArray(), one.toFloatArray());
                if (batched[i].position() != alone[i].position()) {
                    throw new AssertionError("sequence " + i + " at position " + batched[i].position() + " batched, "
                            + alone[i].position() + " alone");
                }
            }
        }
        return worst;
    }

    private static double worst(double w, float[] a, float[] b) {
        for (int i = 0; i < a.length; i++) {
            double e = Math.abs((double) a[i] - b[i]);
            if (Double.isNaN(e) || Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i]) && e == 0) {
                e = Double.isNaN(e) ? Double.NaN : Double.MIN_VALUE; // NaN, or +0 against −0: not identical
            }
            w = Double.isNaN(w) || Double.isNaN(e) ? Double.NaN : Math.max(w, e);
        }
        return w;
    }
}
