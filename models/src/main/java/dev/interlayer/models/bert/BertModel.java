package dev.interlayer.models.bert;

import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.io.WeightSource;
import dev.interlayer.models.lm.HiddenStates;
import dev.interlayer.models.lm.Weights;
import dev.interlayer.nn.Activation;
import dev.interlayer.nn.Attention;
import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.BlockConfig;
import dev.interlayer.nn.Embedding;
import dev.interlayer.nn.EncoderStack;
import dev.interlayer.nn.LayerNorm;
import dev.interlayer.nn.LearnedPositions;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.Mlp;
import dev.interlayer.nn.NormPlacement;
import dev.interlayer.nn.PackedBatch;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A BERT encoder (Devlin et al. 2018; Hugging Face {@code BertModel}): its configuration and tensor names,
 * mapped onto an {@link EncoderStack} that runs it:
 *
 * <pre>
 *   x   = LayerNorm(word[id] + position[t] + tokenType[type])
 *   for each layer (post-LN blocks, exact erf GELU):
 *     x = LayerNorm(x + SelfAttention(x))       Q/K/V/O with biases, bidirectional
 *     x = LayerNorm(x + gelu(x·Wiᵀ + bi)·Wfᵀ + bf)
 * </pre>
 *
 * <p>Sequences of a batch are packed back to back ([Σ len, H]) instead of padded (see
 * {@link dev.interlayer.nn.PackedBatch}): no work is spent on padding.
 *
 * <p>Immutable and thread-safe: weights are read-only views (usually of a mapped file) and each
 * call allocates its own activations.
 */
public final class BertModel implements HiddenStates {
    private final BertConfig config;
    private final EncoderStack stack;

    private BertModel(BertConfig config, EncoderStack stack) {
        this.config = config;
        this.stack = stack;
    }

    /**
     * The only table from this class's weight fields to file names: one row per format, each name a stem
     * completed by {@code .weight} / {@code .bias}; {@code layer} is a format string taking the block index.
     */
    private record Names(String word, String pos, String type, String embLn, String layer, String q, String k,
                         String v, String o, String ln1, String up, String down, String ln2) {
        /** Hugging Face {@code BertModel} parameters, under {@code prefix} ("" or "bert."). */
        static Names huggingFace(String prefix) {
            return new Names(prefix + "embeddings.word_embeddings", prefix + "embeddings.position_embeddings",
                    prefix + "embeddings.token_type_embeddings", prefix + "embeddings.LayerNorm",
                    prefix + "encoder.layer.%d.", "attention.self.query", "attention.self.key", "attention.self.value",
                    "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense", "output.dense",
                    "output.LayerNorm");
        }

        /** llama.cpp's GGUF names for arch {@code bert} (convert_hf_to_gguf.py's tensor map). */
        static final Names GGUF = new Names("token_embd", "position_embd", "token_types", "token_embd_norm",
                "blk.%d.", "attn_q", "attn_k", "attn_v", "attn_output", "attn_output_norm", "ffn_up", "ffn_down",
                "layer_output_norm");
    }

    /**
     * The tensor names this family reads, without {@code .weight} / {@code .bias} and with {@code N} for the
     * block index: llama.cpp GGUF names, or ({@code hf}) Hugging Face names, as in ONNX exports (optionally
     * under {@code bert.}).
     */
    public static List<String> tensorNames(boolean hf) {
        Names n = hf ? Names.huggingFace("") : Names.GGUF;
        List<String> out = new ArrayList<>(List.of(n.word(), n.pos(), n.type(), n.embLn()));
        String layer = n.layer().replace("%d", "N");
        for (String s : List.of(n.q(), n.k(), n.v(), n.o(), n.ln1(), n.up(), n.down(), n.ln2())) {
            out.add(layer + s);
        }
        return out;
    }

    /** "bert." when the checkpoint wraps the encoder (BertForMaskedLM, BertLMHeadModel, ...), else "". */
    static String prefix(WeightSource w) {
        return w.contains("bert.embeddings.word_embeddings.weight") ? "bert." : "";
    }

    /**
     * Looks up the Hugging Face parameter names ({@code embeddings.word_embeddings.weight},
     * {@code encoder.layer.N.attention.self.query.weight}, ..., optionally under {@code bert.}) and
     * checks every shape against {@code config}. Weights stay views of {@code source}, which must
     * stay open while the model is used.
     *
     * @param file the file or folder {@code source} reads, named in error messages
     * @throws ModelFormatException for a missing tensor (listing close names), a wrong shape or a non-float
     *                              tensor, naming {@code file} and the tensor
     */
    public static BertModel load(BertConfig config, WeightSource source, Path file) throws ModelFormatException {
        return load(config, new Weights(source, file), Names.huggingFace(prefix(source)));
    }

    /**
     * Loads a llama.cpp GGUF of architecture {@code bert} ({@code token_embd}, {@code position_embd},
     * {@code token_types}, {@code token_embd_norm}, {@code blk.N.attn_q} ... {@code layer_output_norm},
     * each with {@code .weight} and {@code .bias}), config from {@link BertConfig#fromGguf}. GGUF matrices
     * are stored [out, in] row-major, as nn.Linear, so no transposes are needed. Keep the file open while
     * the model is used.
     *
     * @throws ModelFormatException for missing metadata or tensors, wrong shapes or non-float tensors
     */
    public static BertModel load(GgufFile file) throws ModelFormatException {
        return load(file, file);
    }

    /**
     * As {@link #load(GgufFile)}, looking tensors up in {@code tensors} ({@code file} or a decorator of it
     * such as {@link dev.interlayer.models.io.UsageTrackingWeightSource}); metadata comes from {@code file}.
     */
    public static BertModel load(GgufFile file, WeightSource tensors) throws ModelFormatException {
        return load(BertConfig.fromGguf(file), Weights.of(file, tensors), Names.GGUF);
    }

    private static BertModel load(BertConfig config, Weights w, Names n) throws ModelFormatException {
        int h = config.hidden(), ff = config.intermediate();
        float eps = config.layerNormEps();
        AttentionConfig attention = AttentionConfig.builder(h, config.heads(), config.maxPositions()).causal(false)
                .build();
        BlockConfig block = BlockConfig.of(attention, NormPlacement.POST);
        List<TransformerBlock> layers = new ArrayList<>();
        for (int i = 0; i < config.layers(); i++) {
            String l = n.layer().formatted(i);
            Attention attn = new Attention(attention, linear(w, l + n.q(), h, h), linear(w, l + n.k(), h, h),
                    linear(w, l + n.v(), h, h), linear(w, l + n.o(), h, h));
            Mlp mlp = new Mlp(linear(w, l + n.up(), ff, h), linear(w, l + n.down(), h, ff), Activation.GELU_ERF);
            layers.add(new TransformerBlock(block, null, attn, layerNorm(w, l + n.ln1(), h, eps), null, mlp,
                    layerNorm(w, l + n.ln2(), h, eps)));
        }
        EncoderStack stack = new EncoderStack(new Embedding(w.get(n.word() + ".weight", config.vocabSize(), h)),
                new LearnedPositions(w.get(n.pos() + ".weight", config.maxPositions(), h)),
                layerNorm(w, n.embLn(), h, eps), layers, null,
                new Embedding(w.get(n.type() + ".weight", config.typeVocabSize(), h)));
        return new BertModel(config, stack);
    }

    // stem.weight [out, in] and stem.bias [out]
    private static Linear linear(Weights w, String stem, int out, int in) throws ModelFormatException {
        return new Linear(w.get(stem + ".weight", out, in), w.get(stem + ".bias", out));
    }

    private static LayerNorm layerNorm(Weights w, String stem, int h, float eps) throws ModelFormatException {
        return new LayerNorm(w.get(stem + ".weight", h), w.get(stem + ".bias", h), eps);
    }

    /** The hyperparameters. */
    public BertConfig config() {
        return config;
    }

    /**
     * Runs the encoder on a batch of token-id sequences and returns the last hidden states, packed:
     * rows [off_b, off_b + len_b) belong to sequence b, where off_b = Σ_{c&lt;b} len_c.
     * Equals Hugging Face's {@code last_hidden_state[b, :len_b]} for a padded batch with
     * {@code attention_mask} marking the first len_b tokens.
     *
     * <p>Shapes: ids[b] and typeIds[b] of equal length len_b ≤ maxPositions; result [Σ len_b, H] F32.
     *
     * @param typeIds token-type (segment) ids, or null for all zeros
     * @throws IllegalArgumentException for an out-of-range id, a too long sequence or mismatched lengths
     */
    public Tensor encode(int[][] ids, int[][] typeIds) {
        checkInputs(ids, typeIds);
        PackedBatch batch = PackedBatch.of(ids);
        return stack.encode(batch, batch.pack("token ids", ids), typeIds == null ? null
                : batch.pack("token types", typeIds));
    }

    @Override
    public int hiddenSize() {
        return config.hidden();
    }

    /** Last hidden states [T, H] of one sequence, token types 0, full mask. */
    @Override
    public float[] hiddenStates(int[] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("hiddenStates: no tokens");
        }
        return encode(new int[][] {tokens}, null).toFloatArray();
    }

    /** The encoder this model runs on. */
    public EncoderStack stack() {
        return stack;
    }

    /** Validates ids, type ids and lengths against the config, naming the sequence and token. */
    private void checkInputs(int[][] ids, int[][] typeIds) {
        if (typeIds != null && typeIds.length != ids.length) {
            throw new IllegalArgumentException("BERT encode: " + ids.length + " id sequences but " + typeIds.length
                    + " type-id sequences");
        }
        for (int b = 0; b < ids.length; b++) {
            int[] s = ids[b];
            if (s.length > config.maxPositions()) {
                throw new IllegalArgumentException("BERT encode: sequence " + b + " has " + s.length
                        + " tokens; the model takes at most " + config.maxPositions());
            }
            if (typeIds != null && typeIds[b].length != s.length) {
                throw new IllegalArgumentException("BERT encode: sequence " + b + " has " + s.length + " ids but "
                        + typeIds[b].length + " type ids");
            }
            for (int t = 0; t < s.length; t++) {
                if (s[t] < 0 || s[t] >= config.vocabSize()) {
                    throw new IllegalArgumentException("BERT encode: token id " + s[t] + " at [" + b + "][" + t
                            + "] outside the vocabulary [0, " + config.vocabSize() + ")");
                }
                if (typeIds != null && (typeIds[b][t] < 0 || typeIds[b][t] >= config.typeVocabSize())) {
                    throw new IllegalArgumentException("BERT encode: token type " + typeIds[b][t] + " at [" + b
                            + "][" + t + "] outside [0, " + config.typeVocabSize() + ")");
                }
            }
        }
    }
}
