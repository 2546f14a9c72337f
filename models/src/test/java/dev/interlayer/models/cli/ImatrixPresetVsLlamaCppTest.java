package dev.interlayer.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.SharedModels;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.GgufType;
import dev.interlayer.models.io.QuantPreset;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quantize --type PRESET --imatrix FILE} against llama.cpp's {@code llama-quantize --imatrix}, every tensor's
 * type and the sha256 of its bytes, and the sha256 of the whole file, whose metadata then holds llama-quantize's
 * {@code quantize.imatrix.*} provenance with the same importance-matrix path string (fixture by reference/quant/imatrix_preset_fixtures.py, with the importance
 * matrices committed next to it): on the 256-wide synthetic llama every preset, with Interlayer's own
 * {@code --imatrix-out} matrix, whose missing token_embd and output entries leave those unweighted as in llama-quantize;
 * on the 64-wide, 4-expert synthetic Mixtral the presets whose fallbacks agree, with a random matrix holding an entry
 * for every weight (token_embd and output too, one vector per expert for the expert tensors).
 */
class ImatrixPresetVsLlamaCppTest {
    private static final String GOLDEN = "/golden/quant/";

    @TempDir
    Path dir;

    static JsonObject fixture() throws Exception {
        try (var in = ImatrixPresetVsLlamaCppTest.class.getResourceAsStream(GOLDEN + "imatrix_presets.json")) {
            return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
        }
    }

    Path resource(String name) throws Exception {
        Path p = dir.resolve(name);
        try (var in = ImatrixPresetVsLlamaCppTest.class.getResourceAsStream(GOLDEN + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** tensor name -> [type, sha256 of its data]. */
    static Map<String, String[]> tensors(Path file) throws Exception {
        Map<String, String[]> m = new TreeMap<>();
        try (GgufFile f = Gguf.open(file)) {
            for (String n : f.names()) {
                m.put(n, new String[] {f.info(n).type().name(),
                        sha256(f.rawData(n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))});
            }
        }
        return m;
    }

    Map<String, String[]> quantize(Path src, String preset, Path imatrix) throws Exception {
        return tensors(run(src, preset, imatrix == null ? null : imatrix.toString()));
    }

    /** {@code quantize --type preset [--imatrix imatrix]}, {@code imatrix} passed as the string given; the output. */
    Path run(Path src, String preset, String imatrix) throws Exception {
        Path out = dir.resolve(preset + (imatrix == null ? "" : "-imatrix") + ".gguf");
        String[] args = imatrix == null
                ? new String[] {"quantize", "--model", src.toString(), "--type", preset, "--out", out.toString()}
                : new String[] {"quantize", "--model", src.toString(), "--type", preset, "--imatrix", imatrix,
                        "--out", out.toString()};
        EmbedCommandTest.Run r = EmbedCommandTest.run(args);
        assertEquals(0, r.code(), r.err());
        return out;
    }

    /**
     * The importance matrix as llama-quantize was given it: a path relative to the models module, the directory
     * Maven runs tests in, because llama-quantize stores the string as {@code quantize.imatrix.file} and whole files
     * are equal only if Interlayer gets the same one.
     */
    static String llamaArgument(JsonObject fx) throws Exception {
        String arg = fx.get("imatrix_argument").getAsString();
        assertTrue(Files.isRegularFile(Path.of(arg)), arg + " not found from " + Path.of("").toAbsolutePath()
                + ": the test must run in the models module (Maven's working directory)");
        assertEquals(fx.get("imatrix_sha256").getAsString(), sha256(Files.readAllBytes(Path.of(arg))), arg);
        return arg;
    }

    /**
     * Every tensor's type and bytes, and then the whole file (sha256 of every byte: header, metadata with
     * llama-quantize's {@code quantize.imatrix.*} provenance keys, tensor infos, padding, data).
     */
    @Test
    void everyPresetEqualsLlamaQuantizeTensorByTensorAndWholeFile() throws Exception {
        JsonObject models = fixture().getAsJsonObject("models");
        assertEquals(2, models.size());
        int presetsChecked = 0;
        for (String source : models.keySet()) {
            JsonObject fx = models.getAsJsonObject(source);
            Path src = SharedModels.require(source);
            assertEquals(fx.get("source_sha256").getAsString(), sha256(Files.readAllBytes(src)),
                    source + ": not the model llama.cpp ran");
            String imatrix = llamaArgument(fx);
            JsonObject presets = fx.getAsJsonObject("presets"), files = fx.getAsJsonObject("file_sha256");
            assertEquals(presets.keySet(), files.keySet());
            for (String p : presets.keySet()) {
                Path out = run(src, p, imatrix);
                Map<String, String[]> got = tensors(out);
                JsonObject want = presets.getAsJsonObject(p);
                assertEquals(want.keySet(), got.keySet(), source + " " + p);
                for (String t : want.keySet()) {
                    var w = want.getAsJsonArray(t);
                    assertEquals(w.get(0).getAsString(), got.get(t)[0], source + " " + p + " " + t + " type");
                    assertEquals(w.get(1).getAsString(), got.get(t)[1], source + " " + p + " " + t + " bytes");
                }
                assertEquals(files.get(p).getAsString(), sha256(Files.readAllBytes(out)), source + " " + p
                        + ": tensors equal, whole file not (metadata, order or padding)");
                presetsChecked++;
            }
        }
        assertEquals(QuantPreset.values().length + 10, presetsChecked, "every preset on the llama, 10 on the MoE");
    }

    /**
     * The importance matrix reaches the block linears (other bytes than the unweighted run) and only them:
     * token_embd and output have no entry and equal the unweighted run's, as in llama-quantize.
     */
    @Test
    void onlyTensorsWithAnEntryChange() throws Exception {
        String source = "synthetic/synth-llama-256-f32.gguf";
        JsonObject fx = fixture().getAsJsonObject("models").getAsJsonObject(source);
        Path src = SharedModels.require(source);
        Path imatrix = resource(fx.get("imatrix").getAsString());
        for (String p : new String[] {"Q4_K_M", "Q4_0"}) {
            Map<String, String[]> plain = quantize(src, p, null), weighted = quantize(src, p, imatrix);
            for (String t : plain.keySet()) {
                boolean linear = t.startsWith("blk.") && !t.contains("norm");
                if (linear) {
                    assertNotEquals(plain.get(t)[1], weighted.get(t)[1], p + " " + t);
                } else {
                    assertEquals(plain.get(t)[1], weighted.get(t)[1], p + " " + t);
                }
            }
        }
    }

    /**
     * The provenance keys as llama-quantize writes them: {@code quantize.imatrix.file} is the argument exactly as typed
     * (a doubled slash, which a {@link Path} would fold, stays), then the matrix's data set, entry count and chunk
     * count (its legacy trailer: calibration.txt, 48 windows); without {@code --imatrix} there are none.
     */
    @Test
    void provenanceKeysAreTheArgumentAsTypedAndTheMatrixsTrailer() throws Exception {
        String source = "synthetic/synth-llama-256-f32.gguf";
        JsonObject fx = fixture().getAsJsonObject("models").getAsJsonObject(source);
        Path src = SharedModels.require(source);
        String typed = llamaArgument(fx).replace("golden/", "golden//");
        try (GgufFile q = Gguf.open(run(src, "Q8_0", typed))) {
            assertEquals(typed, q.getString("quantize.imatrix.file"));
            assertEquals("calibration.txt", q.getString("quantize.imatrix.dataset"));
            assertEquals(14, q.getInt("quantize.imatrix.entries_count", -1));
            assertEquals(48, q.getInt("quantize.imatrix.chunks_count", -1));
        }
        try (GgufFile q = Gguf.open(run(src, "Q8_0", null))) {
            assertTrue(q.metadata().keySet().stream().noneMatch(k -> k.startsWith("quantize.")),
                    q.metadata().keySet().toString());
        }
    }

    /** An importance matrix of another model is refused naming the file and the tensor; nothing is written. */
    @Test
    void mismatchedImatrixIsRefusedNamingFileAndTensor() throws Exception {
        Path src = SharedModels.require("synthetic/synth-llama-256-f32.gguf");
        Path bad = dir.resolve("other.dat");
        Files.write(bad, legacyDat("blk.1.ffn_up.weight", new float[64]));
        Path out = dir.resolve("o.gguf");
        EmbedCommandTest.Run r = EmbedCommandTest.run("quantize", "--model", src.toString(), "--type", "Q4_K_M",
                "--imatrix", bad.toString(), "--out", out.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("other.dat") && r.err().contains("blk.1.ffn_up.weight")
                && r.err().contains("64 values") && r.err().contains("256 input columns"), r.err());
        assertTrue(Files.notExists(out), "no file written");
        Files.write(bad, legacyDat("blk.1.ffn_up.weight", new float[] {Float.NaN}));
        r = EmbedCommandTest.run("quantize", "--model", src.toString(), "--type", "Q4_0", "--imatrix", bad.toString(),
                "--out", out.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("other.dat") && r.err().contains("blk.1.ffn_up.weight"), r.err());
    }

    /** llama.cpp's legacy imatrix.dat with one entry ({@code ncall} 1). */
    static byte[] legacyDat(String name, float[] values) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(16 + n.length + 4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(1).putInt(n.length).put(n).putInt(1).putInt(values.length);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    /** llama.cpp's imatrix type rule: Q4_0/Q5_0 mixes store the first eighth's ffn_down as Q4_1/Q5_1, not --pure. */
    @Test
    void q4_0WithImatrixKeepsFirstEighthFfnDownAffine() {
        QuantPreset.Model m = QuantPreset.Model.dense(32, 1);
        long[] shape = {256, 256};
        for (int layer = 0; layer < 32; layer++) {
            String name = "blk." + layer + ".ffn_down.weight";
            boolean first = layer < 4;
            assertEquals(first ? GgufType.Q4_1 : GgufType.Q4_0,
                    QuantPreset.Q4_0.typeFor(name, shape, GgufType.F32, m, false, true), name);
            assertEquals(first ? GgufType.Q5_1 : GgufType.Q5_0,
                    QuantPreset.Q5_0.typeFor(name, shape, GgufType.F32, m, false, true), name);
            assertEquals(GgufType.Q4_0, QuantPreset.Q4_0.typeFor(name, shape, GgufType.F32, m, false, false), name);
            assertEquals(GgufType.Q4_0, QuantPreset.Q4_0.typeFor(name, shape, GgufType.F32, m, true, true), name);
            assertEquals(GgufType.Q4_1, QuantPreset.Q4_1.typeFor(name, shape, GgufType.F32, m, false, true), name);
            assertEquals(GgufType.Q4_0, QuantPreset.Q4_0.typeFor("blk." + layer + ".ffn_up.weight", shape,
                    GgufType.F32, m, false, true));
        }
    }
}
