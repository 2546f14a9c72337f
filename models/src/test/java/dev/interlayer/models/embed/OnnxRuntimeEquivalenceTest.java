package dev.interlayer.models.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import dev.interlayer.models.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The main check of the embedding path: our pure-Java BERT on the MiniLM ONNX file (parsed by our
 * own protobuf reader) against ONNX Runtime running the same file, on the same token ids.
 *
 * <p>ORT returns {@code last_hidden_state} [B, T, 384] for a padded batch; the test pools it itself
 * (mean over attention_mask, then L2 normalisation, as sentence-transformers does), so the
 * comparison also covers padding (ORT pads and masks, we pack sequences without padding).
 *
 * <p>Tolerances: both sides compute in float32 with different summation orders; measured
 * differences are a few 1e-7 per component after normalisation, so cosine ≥ 0.99999 and
 * |Δ| ≤ 1e-4 leave ample room while catching any real error (a wrong op moves components by
 * 1e-2 or more).
 */
class OnnxRuntimeEquivalenceTest {
    static final String LONG = "The quick brown fox jumps over the lazy dog near the riverbank while children play "
            + "football in the park, and an old man feeds pigeons with breadcrumbs from a paper bag. ";

    static final List<String> SENTENCES = List.of(
            "",
            "Hello world",
            "The cat sits on the mat.",
            "A kitten is resting on a rug.",
            "Stock markets fell sharply after the announcement.",
            "Investors sold shares as prices dropped!!!",
            "How do I bake sourdough bread at home?",
            "   leading and trailing spaces   ",
            "UPPER case and MiXeD CaSe words",
            "Punctuation: commas, periods... (parentheses) [brackets] {braces} -- dashes; semi-colons!?",
            "Numbers 12345 and 3.14159 and 1,000,000 and 2024-06-01",
            "email@example.com https://example.org/path?query=1&x=y",
            "Café naïve résumé coöperate façade",
            "Übermäßig große Straßen in München",
            "日本語のテキストも埋め込めますか？",
            "中文句子测试，包括标点。",
            "Русский текст с кириллицей",
            "العربية نص قصير",
            "Emoji 😀🚀🎉 and symbols ©®™ ∑∫√",
            "Tabs\tand\nnewlines\r\nmixed",
            "a",
            "??",
            "supercalifragilisticexpialidocious antidisestablishmentarianism",
            "I love machine learning and natural language processing.",
            "Deep learning models require large amounts of data.",
            "The weather today is sunny with a light breeze.",
            "It is raining cats and dogs outside.",
            "Java virtual machine just-in-time compilation",
            "ONNX Runtime is a cross-platform inference engine.",
            "Zero-width\u200bjoiner and non\u00a0breaking space",
            LONG,
            LONG.repeat(3),
            LONG.repeat(8) + "tail words that must be truncated away");

    static EmbeddingModel model;
    static OrtEnvironment env;
    static OrtSession session;

    @BeforeAll
    static void load() throws Exception {
        model = EmbeddingModel.defaultModel();
        Path onnx = ClasspathModel.resolve(EmbeddingModel.DEFAULT_ONNX);
        env = OrtEnvironment.getEnvironment();
        session = env.createSession(onnx.toString(), new OrtSession.SessionOptions());
    }

    @AfterAll
    static void close() throws Exception {
        if (session != null) {
            session.close();
        }
        if (model != null) {
            model.close();
        }
    }

    @Test
    void embeddingsEqualOnnxRuntime() throws Exception {
        List<int[]> ids = new ArrayList<>();
        for (String s : SENTENCES) {
            ids.add(model.tokenIds(s));
        }
        // The truncation cases must really be truncated (and keep [SEP] at the end).
        int[] longest = ids.get(ids.size() - 1);
        assertEquals(model.maxTokens(), longest.length, "long text should be cut at maxTokens");
        assertEquals(102, longest[longest.length - 1], "truncated input keeps [SEP] last");

        List<float[]> ours = model.embed(SENTENCES);
        List<float[]> ref = ortEmbeddings(ids);
        double worstCos = 1, worstAbs = 0;
        for (int i = 0; i < SENTENCES.size(); i++) {
            float[] a = ours.get(i), b = ref.get(i);
            assertEquals(384, a.length);
            double cos = EmbeddingModel.cosine(a, b);
            double abs = 0;
            for (int c = 0; c < a.length; c++) {
                abs = Math.max(abs, Math.abs(a[c] - b[c]));
            }
            worstCos = Math.min(worstCos, cos);
            worstAbs = Math.max(worstAbs, abs);
            assertTrue(cos >= 0.99999, "sentence " + i + " '" + SENTENCES.get(i) + "': cosine " + cos);
            assertTrue(abs <= 1e-4, "sentence " + i + " '" + SENTENCES.get(i) + "': max |diff| " + abs);
        }
        System.out.printf("MiniLM vs ONNX Runtime on %d texts: min cosine %.9f, max |diff| %.3g%n",
                SENTENCES.size(), worstCos, worstAbs);
    }

    @Test
    void batchedEqualsOneByOne() {
        // Packing must not leak between sequences: a text embedded alone equals the same text in a batch.
        List<float[]> batch = model.embed(SENTENCES.subList(0, 8));
        for (int i = 0; i < 8; i++) {
            float[] alone = model.embed(SENTENCES.get(i));
            for (int c = 0; c < alone.length; c++) {
                assertEquals(alone[c], batch.get(i)[c], 1e-6f, "sentence " + i + " component " + c);
            }
        }
    }

    @Test
    void clsPoolingEqualsOnnxRuntimeFirstToken() throws Exception {
        EmbeddingModel cls = model.withPooling(Pooling.CLS);
        List<String> texts = SENTENCES.subList(1, 6);
        List<int[]> ids = texts.stream().map(model::tokenIds).toList();
        float[][][] h = ortHidden(ids);
        List<float[]> ours = cls.embed(texts);
        for (int i = 0; i < texts.size(); i++) {
            float[] ref = normalize(h[i][0].clone());
            for (int c = 0; c < ref.length; c++) {
                assertEquals(ref[c], ours.get(i)[c], 1e-4f, "text " + i + " component " + c);
            }
        }
    }

    @Test
    void hiddenCliOnOnnxFileEqualsOnnxRuntime() throws Exception {
        // `interlayer hidden --model all-minilm-l6-v2.onnx --tokens ... --json` (ModelLoader's .onnx path) vs ORT's
        // last_hidden_state for the same ids. Unnormalised states of magnitude ~1: float32 on both sides with
        // different summation orders, so 1e-4 absolute (same budget as above).
        Path onnx = EmbeddingModel.defaultOnnxPath();
        int[] ids = model.tokenIds(SENTENCES.get(2));
        StringBuilder tokens = new StringBuilder();
        for (int id : ids) {
            tokens.append(tokens.isEmpty() ? "" : ",").append(id);
        }
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("hidden", "--model", onnx.toString(), "--tokens", tokens.toString(), "--json");
        assertEquals(0, code, err.toString());
        JsonArray rows = JsonParser.parseString(out.toString()).getAsJsonObject()
                .getAsJsonArray("hidden");
        float[][] ref = ortHidden(List.of(ids))[0];
        assertEquals(ids.length, rows.size());
        double worst = 0;
        for (int t = 0; t < ids.length; t++) {
            JsonArray r = rows.get(t).getAsJsonArray();
            assertEquals(384, r.size());
            for (int c = 0; c < 384; c++) {
                worst = Math.max(worst, Math.abs(r.get(c).getAsDouble() - ref[t][c]));
            }
        }
        assertTrue(worst <= 1e-4, "hidden --json vs ORT last_hidden_state: max |diff| " + worst);
        System.out.printf("MiniLM hidden (CLI, .onnx) vs ONNX Runtime: max |diff| %.3g%n", worst);
    }

    /** ORT on a padded batch, pooled by the test: mean over attention_mask, then L2-normalised. */
    static List<float[]> ortEmbeddings(List<int[]> ids) throws Exception {
        float[][][] h = ortHidden(ids);
        List<float[]> out = new ArrayList<>();
        for (int b = 0; b < ids.size(); b++) {
            float[] mean = new float[h[b][0].length];
            int len = ids.get(b).length;
            for (int t = 0; t < len; t++) {
                for (int c = 0; c < mean.length; c++) {
                    mean[c] += h[b][t][c];
                }
            }
            for (int c = 0; c < mean.length; c++) {
                mean[c] /= len;
            }
            out.add(normalize(mean));
        }
        return out;
    }

    static float[][][] ortHidden(List<int[]> ids) throws Exception {
        int t = ids.stream().mapToInt(a -> a.length).max().orElse(0);
        long[][] in = new long[ids.size()][t], mask = new long[ids.size()][t], types = new long[ids.size()][t];
        for (int b = 0; b < ids.size(); b++) {
            for (int i = 0; i < ids.get(b).length; i++) {
                in[b][i] = ids.get(b)[i];
                mask[b][i] = 1;
            }
        }
        try (OnnxTensor a = OnnxTensor.createTensor(env, in); OnnxTensor m = OnnxTensor.createTensor(env, mask);
             OnnxTensor ty = OnnxTensor.createTensor(env, types);
             OrtSession.Result r = session.run(Map.of("input_ids", a, "attention_mask", m, "token_type_ids", ty))) {
            return (float[][][]) r.get("last_hidden_state").orElseThrow().getValue();
        }
    }

    static float[] normalize(float[] v) {
        double n = 0;
        for (float x : v) {
            n += (double) x * x;
        }
        double inv = 1 / Math.max(Math.sqrt(n), 1e-12);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (v[i] * inv);
        }
        return v;
    }
}
