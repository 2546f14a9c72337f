package dev.interlayer.models.bert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.SharedModels;
import dev.interlayer.models.cli.Main;
import dev.interlayer.models.embed.EmbeddingModel;
import dev.interlayer.models.embed.Pooling;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.ModelFormatException;
import dev.interlayer.models.load.Fixture;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import dev.interlayer.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The BERT encoder read from llama.cpp GGUF ({@code synthetic/synth-bert-f32.gguf}: arch bert, n_embd 32,
 * 2 layers, 4 heads, n_ff 64, mean pooling, bge WordPiece vocabulary) against
 * {@code golden/bert/synth_bert.json}, written by reference/bert/synth_bert_reference.py (numpy float64 from
 * the equations, its own GGUF parser). Three fixed id sequences: "hello world" with [CLS]/[SEP], the empty
 * text ([CLS] [SEP]) and 40 random ids (long enough for the GEMM form of attention).
 *
 * <p>Tolerance 1e-4 absolute, the project's F32-vs-float64 budget: weights are the same F32 values on both
 * sides, the Java side accumulates in float32 (sums over 32/64 terms, 5 LayerNorms with eps 1e-12 on
 * unit-scale activations), giving a few 1e-6; 1e-4 is far below what a wrong op, transpose or name
 * mapping produces (≥ 1e-2).
 */
class SynthBertGgufTest {
    static final double TOL = 1e-4;
    static Path model;
    static JsonObject golden;
    static int[][] ids;

    @BeforeAll
    static void load() throws Exception {
        model = SharedModels.require("synthetic/synth-bert-f32.gguf");
        golden = Fixture.json("/golden/bert/synth_bert.json");
        JsonArray a = golden.getAsJsonArray("ids");
        ids = new int[a.size()][];
        for (int i = 0; i < ids.length; i++) {
            JsonArray s = a.get(i).getAsJsonArray();
            ids[i] = new int[s.size()];
            for (int t = 0; t < ids[i].length; t++) {
                ids[i][t] = s.get(t).getAsInt();
            }
        }
    }

    static double maxDiff(float[] got, int off, JsonArray want) {
        double m = 0;
        for (int j = 0; j < want.size(); j++) {
            m = Math.max(m, Math.abs(got[off + j] - want.get(j).getAsDouble()));
        }
        return m;
    }

    /** Largest |Java − reference| over all hidden states of sequence b, rows [row, row + len) of h [*, H]. */
    static double hiddenDiff(float[] h, int row, int b, int hidden) {
        JsonArray rows = golden.getAsJsonArray("last_hidden_state").get(b).getAsJsonArray();
        assertEquals(ids[b].length, rows.size());
        double m = 0;
        for (int t = 0; t < rows.size(); t++) {
            m = Math.max(m, maxDiff(h, (row + t) * hidden, rows.get(t).getAsJsonArray()));
        }
        return m;
    }

    @Test
    void configFromGgufMetadata() throws Exception {
        try (GgufFile f = Gguf.open(model)) {
            BertConfig c = BertConfig.fromGguf(f);
            // values from the file's metadata and tensor table, as listed in ../shared/models/PROVENANCE.md
            assertEquals(new BertConfig(30522, 32, 2, 4, 64, 128, 2, 1e-12f), c);
        }
    }

    @Test
    void packedBatchMatchesReference() throws Exception {
        try (GgufFile f = Gguf.open(model)) {
            BertModel bert = BertModel.load(f);
            Tensor h = bert.encode(ids, null);                      // [Σ len, 32], all three sequences packed
            float[] hs = h.contiguous().toFloatArray();
            double worst = 0;
            int row = 0;
            for (int b = 0; b < ids.length; b++) {
                double d = hiddenDiff(hs, row, b, 32);
                worst = Math.max(worst, d);
                assertTrue(d <= TOL, "sequence " + b + " (" + ids[b].length + " tokens): max |diff| " + d);
                row += ids[b].length;
            }
            System.out.printf("synth-bert GGUF last_hidden_state vs numpy float64: max |diff| %.3g%n", worst);
        }
    }

    @Test
    void embeddingModelFromGgufMatchesReference() throws Exception {
        try (EmbeddingModel m = EmbeddingModel.fromGguf(model)) {
            assertEquals(Pooling.MEAN, m.pooling(), "bert.pooling_type 1");
            assertEquals(32, m.dimension());
            assertEquals(128, m.maxTokens(), "no tokenizer limit in the GGUF: the position table bounds it");
            // the GGUF's own WordPiece tokenizer gives the fixture's ids for its texts
            assertArrayEquals(ids[0], m.tokenIds("hello world"));
            assertArrayEquals(ids[1], m.tokenIds(""));
            List<float[]> e = new ArrayList<>(m.embedTokenIds(List.of(ids)));
            e.set(0, m.embed("Hello World"));                       // through the tokenizer (lower-cased)
            JsonArray want = golden.getAsJsonArray("mean_pooled_normalized");
            double worst = 0;
            for (int b = 0; b < ids.length; b++) {
                double d = maxDiff(e.get(b), 0, want.get(b).getAsJsonArray());
                worst = Math.max(worst, d);
                assertTrue(d <= TOL, "embedding " + b + ": max |diff| " + d);
            }
            System.out.printf("synth-bert GGUF mean-pooled embedding vs numpy float64: max |diff| %.3g%n", worst);
        }
    }

    @Test
    void modelLoaderOpensBertGgufAsEncoder() throws Exception {
        try (LoadedModel m = ModelLoader.open(model)) {
            assertEquals("bert", m.family());
            assertEquals("gguf", m.source());
            assertNull(m.lm());
            assertTrue(m.optionalTokenizer().isPresent());
            assertThrows(IllegalArgumentException.class, m::requireLm);
            float[] h = m.hidden().hiddenStates(ids[2]);
            assertTrue(hiddenDiff(h, 0, 2, m.hidden().hiddenSize()) <= TOL);
        }
    }

    @Test
    void hiddenCliJsonMatchesReference() {
        String tokens = golden.getAsJsonArray("ids").get(0).getAsJsonArray().toString().replaceAll("[\\[\\]]", "");
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("hidden", "--model", model.toString(), "--tokens", tokens, "--json");
        assertEquals(0, code, err.toString());
        JsonArray rows = JsonParser.parseString(out.toString()).getAsJsonObject().getAsJsonArray("hidden");
        assertEquals(ids[0].length, rows.size());
        float[] h = new float[rows.size() * 32];
        for (int t = 0; t < rows.size(); t++) {
            JsonArray r = rows.get(t).getAsJsonArray();
            assertEquals(32, r.size());
            for (int j = 0; j < 32; j++) {
                h[t * 32 + j] = r.get(j).getAsFloat();
            }
        }
        double d = hiddenDiff(h, 0, 0, 32);
        assertTrue(d <= TOL, "hidden --json: max |diff| " + d);
    }

    @Test
    void embedCliOnGgufMatchesReference() {
        // ./interlayer embed --model synth-bert-f32.gguf "hello world" --json: tokenizer and pooling from the file
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code;
        StringWriter err = new StringWriter();
        try {   // embed prints to System.out (tests run sequentially: no parallel JUnit configured)
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            CommandLine cl = Main.commandLine();
            cl.setErr(new PrintWriter(err));
            code = cl.execute("embed", "--model", model.toString(), "--json", "hello world");
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code, err.toString());
        JsonArray e = JsonParser.parseString(buf.toString(StandardCharsets.UTF_8)).getAsJsonObject()
                .getAsJsonArray("embeddings");
        assertEquals(1, e.size());
        JsonArray got = e.get(0).getAsJsonArray(), want = golden.getAsJsonArray("mean_pooled_normalized").get(0)
                .getAsJsonArray();
        assertEquals(32, got.size());
        for (int j = 0; j < 32; j++) {
            assertEquals(want.get(j).getAsDouble(), got.get(j).getAsDouble(), TOL, "component " + j);
        }
    }

    @Test
    void nonBertGgufIsAClearError() {
        Path gpt2 = SharedModels.require("synthetic/synth-gpt2-f32.gguf");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> EmbeddingModel.fromGguf(gpt2));
        assertTrue(e.getMessage().contains("general.architecture") && e.getMessage().contains("gpt2"), e.getMessage());
    }

    @Test
    void poolingTypes() {
        assertEquals(Pooling.MEAN, Pooling.fromGgufType(1));
        assertEquals(Pooling.CLS, Pooling.fromGgufType(2));
        for (int t : new int[] {0, 3, 4, -1}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pooling.fromGgufType(t));
            assertTrue(e.getMessage().contains("pooling_type " + t), e.getMessage());
        }
    }
}
