package dev.interlayer.models.cli;

import dev.interlayer.models.embed.EmbeddingModel;
import dev.interlayer.models.family.Families;
import dev.interlayer.models.family.Family;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.quantize.EncoderGguf;
import dev.interlayer.models.quantize.EncoderQuantizer;
import dev.interlayer.models.quantize.GgmlBlocks;
import dev.interlayer.models.quantize.LadderFormat;
import dev.interlayer.models.quantize.QuantizedGguf;
import dev.interlayer.models.quantize.SequentialQuantizer;
import dev.interlayer.models.quantize.SiteQuantizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The encoder half of {@code ./interlayer quantize --method}: a BERT-family encoder (a GGUF of architecture
 * {@code bert}, an ONNX export with its tokenizer.json, or {@code default}, the all-MiniLM-L6-v2 ONNX model shipped
 * on the class path) quantized with {@link EncoderQuantizer} on calibration texts (one per line, each tokenized
 * as the model embeds it) and written as a GGUF encoder; an ONNX input is first converted to a float32 GGUF
 * ({@link EncoderGguf}, a temporary file next to the output).
 */
final class EncoderQuantize {
    /** The {@code --model} value naming the class-path MiniLM. */
    static final String DEFAULT = "default";

    private EncoderQuantize() {
    }

    /** True for an {@code .onnx} file or a GGUF whose architecture is an encoder family's. */
    static boolean isEncoder(Path model) throws IOException {
        if (model.getFileName().toString().endsWith(".onnx")) {
            return true;
        }
        if (!Files.isRegularFile(model)) {
            return false;
        }
        try (var in = Files.newInputStream(model)) {
            if (!new String(in.readNBytes(4), StandardCharsets.ISO_8859_1).equals("GGUF")) {
                return false;
            }
        }
        try (GgufFile f = Gguf.open(model)) {
            return Families.requireGguf(model, f.architecture()).kind() == Family.Kind.ENCODER;
        }
    }

    static Integer run(CalibratedQuantize c, Path model, Path out, PrintWriter o, SiteQuantizer.Options opt)
            throws IOException {
        boolean builtIn = model.toString().equals(DEFAULT);
        Path gguf = model, tmp = null;
        if (builtIn || model.getFileName().toString().endsWith(".onnx")) {
            Path onnx = builtIn ? EmbeddingModel.defaultOnnxPath() : model;
            Path tj = builtIn ? EmbeddingModel.defaultTokenizerPath() : EmbeddingModel.onnxTokenizer(model);
            Flags.file(tj, "--model", "an ONNX export with its tokenizer.json (or <name>-tokenizer.json) next to it");
            Path dir = out.toAbsolutePath().getParent();
            tmp = Files.createTempFile(dir, out.getFileName().toString() + ".", ".f32.gguf");
            gguf = tmp;
            EncoderGguf.fromOnnx(onnx, tj, builtIn ? "all-MiniLM-L6-v2" : onnx.getFileName().toString(), tmp);
        }
        try {
            List<int[]> calib = null;
            long tokens = 0;
            if (c.calibration != null) {
                calib = new ArrayList<>();
                try (EmbeddingModel em = EmbeddingModel.fromGguf(gguf)) {
                    for (String line : Files.readAllLines(c.calibration, StandardCharsets.UTF_8)) {
                        if (!line.isBlank()) {
                            int[] ids = em.tokenIds(line.strip());
                            calib.add(ids);
                            tokens += ids.length;
                        }
                    }
                }
                if (calib.isEmpty()) {
                    throw new IllegalArgumentException("--calibration " + c.calibration + ": no non-blank lines");
                }
            }
            try (GgufFile file = Gguf.open(gguf)) {
                long t0 = System.nanoTime();
                SequentialQuantizer.Result r = EncoderQuantizer.run(file, calib, opt, c.onePass, System.err::println);
                double total = (System.nanoTime() - t0) / 1e9;
                String label = SiteQuantizer.describe(opt);
                long bytes = QuantizedGguf.write(file, out, r.quantized(), r.replacedF32(), label);
                c.summary(o, r, label, LadderFormat.of(opt.scheme()).describe(), calib == null ? "" : String.format(Locale.ROOT,
                        "; calibration %d texts, %d tokens", calib.size(), tokens), total, bytes, file);
            }
        } finally {
            if (tmp != null) {
                Files.deleteIfExists(tmp);
            }
        }
        return 0;
    }
}
