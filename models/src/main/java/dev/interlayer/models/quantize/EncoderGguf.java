package dev.interlayer.models.quantize;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.bert.BertConfig;
import dev.interlayer.models.family.Families;
import dev.interlayer.models.io.GgufType;
import dev.interlayer.models.io.GgufWriter;
import dev.interlayer.models.io.OnnxWeights;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a BERT encoder exported to ONNX (Hugging Face parameter names) with its {@code tokenizer.json} as a
 * float32 llama.cpp GGUF of architecture {@code bert}, so the GGUF quantizers and writer work on it:
 * <ul>
 *   <li>tensors renamed with the family's own name table ({@link Families#BERT}'s Hugging Face and GGUF lists,
 *       entry for entry), each stored F32 in the {@code nn.Linear} layout [out, in];</li>
 *   <li>metadata as llama.cpp's {@code convert_hf_to_gguf.py} writes for BERT: {@code bert.*} sizes,
 *       {@code bert.attention.causal = false}, {@code bert.pooling_type = 1} (mean, as sentence-transformers
 *       pools MiniLM), {@code tokenizer.ggml.token_type_count} (the token-type table's rows);</li>
 *   <li>the WordPiece vocabulary in llama.cpp's phantom-space form ({@code ##x → x}, {@code [X]} unchanged,
 *       {@code t → ▁t}), special tokens of tokenizer.json's {@code added_tokens} as CONTROL (3), others NORMAL (1),
 *       and the CLS/SEP/UNK/PAD/MASK ids.</li>
 * </ul>
 * tokenizer.json's truncation length has no GGUF key: the GGUF model takes up to the position table's length.
 */
public final class EncoderGguf {
    private static final int NORMAL = 1, CONTROL = 3;

    private EncoderGguf() {
    }

    /**
     * Converts {@code onnx} + {@code tokenizerJson} to {@code out}.
     *
     * @throws IllegalArgumentException if the tokenizer is not an uncased WordPiece (GGUF's {@code bert} tokenizer
     *                                  always lower-cases), or a tensor of the family is missing
     */
    public static void fromOnnx(Path onnx, Path tokenizerJson, String name, Path out) throws IOException {
        JsonObject tok = JsonParser.parseString(Files.readString(tokenizerJson, StandardCharsets.UTF_8)).getAsJsonObject();
        try (OnnxWeights w = OnnxWeights.open(onnx)) {
            BertConfig c = BertConfig.fromOnnx(w);
            GgufWriter g = new GgufWriter();
            g.putString("general.architecture", "bert");
            g.putString("general.name", name);
            g.putU32("bert.context_length", c.maxPositions());
            g.putU32("bert.embedding_length", c.hidden());
            g.putU32("bert.feed_forward_length", c.intermediate());
            g.putU32("bert.block_count", c.layers());
            g.putU32("bert.attention.head_count", c.heads());
            g.putF32("bert.attention.layer_norm_epsilon", c.layerNormEps());
            g.putBool("bert.attention.causal", false);
            g.putU32("bert.pooling_type", 1);
            g.putU32("general.file_type", 0);   // all F32
            vocabulary(tok, tokenizerJson, c.vocabSize(), g);
            // llama.cpp sizes token_types.weight [d, n] from this key (absent: 0 rows, and it refuses the file)
            g.putU32("tokenizer.ggml.token_type_count", c.typeVocabSize());
            String prefix = w.contains("bert.embeddings.word_embeddings.weight") ? "bert." : "";
            List<String> hf = Families.BERT.tensorNames().hf(), gguf = Families.BERT.tensorNames().gguf();
            for (int i = 0; i < hf.size(); i++) {
                for (int l = 0; l < (hf.get(i).contains(".N.") ? c.layers() : 1); l++) {
                    for (String suffix : new String[] {".weight", ".bias"}) {
                        String from = prefix + hf.get(i).replace(".N.", "." + l + ".") + suffix;
                        String to = gguf.get(i).replace(".N.", "." + l + ".") + suffix;
                        if (!w.contains(from)) {
                            if (suffix.equals(".bias") && i < 3) {
                                continue;   // embedding tables have no bias
                            }
                            throw new IllegalArgumentException(onnx.getFileName() + ": no tensor '" + from + "'");
                        }
                        Tensor t = w.tensor(from);
                        float[] v = t.toF32().contiguous().toFloatArray();
                        g.addTensor(to, GgufType.F32, t.shape(), ch -> {
                            byte[] b = new byte[4 * v.length];
                            MemorySegment.copy(v, 0, MemorySegment.ofArray(b), ValueLayout.JAVA_FLOAT_UNALIGNED, 0,
                                    v.length);
                            ByteBuffer bb = ByteBuffer.wrap(b);
                            while (bb.hasRemaining()) {
                                ch.write(bb);
                            }
                        });
                    }
                }
            }
            g.write(out, done -> { });
        }
    }

    // tokenizer.ggml.* from tokenizer.json's WordPiece model
    private static void vocabulary(JsonObject tok, Path file, int vocabSize, GgufWriter g) {
        JsonObject model = tok.getAsJsonObject("model");
        JsonObject norm = tok.has("normalizer") && tok.get("normalizer").isJsonObject()
                ? tok.getAsJsonObject("normalizer") : null;
        if (model == null || !"WordPiece".equals(model.get("type").getAsString())) {
            throw new IllegalArgumentException(file + ": model.type must be WordPiece for a GGUF bert tokenizer");
        }
        if (norm == null || !norm.has("lowercase") || !norm.get("lowercase").getAsBoolean()) {
            throw new IllegalArgumentException(file + ": GGUF's bert tokenizer lower-cases; this tokenizer.json does"
                    + " not (normalizer.lowercase is not true)");
        }
        String[] tokens = new String[vocabSize];
        int[] types = new int[vocabSize];
        for (Map.Entry<String, JsonElement> e : model.getAsJsonObject("vocab").entrySet()) {
            int id = e.getValue().getAsInt();
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException(file + ": token id " + id + " outside the model's " + vocabSize);
            }
            String t = e.getKey();
            tokens[id] = t.startsWith("##") ? t.substring(2) : t.startsWith("[") && t.endsWith("]") ? t : "\u2581" + t;
            types[id] = NORMAL;
        }
        for (JsonElement a : tok.getAsJsonArray("added_tokens")) {
            JsonObject o = a.getAsJsonObject();
            if (o.get("special").getAsBoolean()) {
                types[o.get("id").getAsInt()] = CONTROL;
            }
        }
        List<String> list = new ArrayList<>();
        for (int i = 0; i < vocabSize; i++) {
            if (tokens[i] == null) {
                throw new IllegalArgumentException(file + ": no token with id " + i);
            }
            list.add(tokens[i]);
        }
        g.putString("tokenizer.ggml.model", "bert");
        g.putStrings("tokenizer.ggml.tokens", list);
        g.putI32s("tokenizer.ggml.token_type", types);
        JsonObject vocab = model.getAsJsonObject("vocab");
        String[][] specials = {{"cls_token_id", "[CLS]"}, {"seperator_token_id", "[SEP]"},
                {"unknown_token_id", "[UNK]"}, {"padding_token_id", "[PAD]"}, {"mask_token_id", "[MASK]"}};
        for (String[] s : specials) {
            if (vocab.has(s[1])) {
                g.putU32("tokenizer.ggml." + s[0], vocab.get(s[1]).getAsInt());
            }
        }
    }
}
