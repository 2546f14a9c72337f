package dev.interlayer.models.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.interlayer.models.embed.EmbeddingModel;
import dev.interlayer.models.embed.Pooling;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./interlayer embed [--model PATH] [--json] [--input FILE] TEXT...}: one L2-normalised
 * embedding per text, in order.
 */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = "Embed texts with a BERT sentence-embedding model (default: all-MiniLM-L6-v2 from the class path).")
public final class EmbedCommand implements CliCommand, Callable<Integer> {
    /** Creates the command; picocli fills the options ({@link java.util.ServiceLoader} needs this constructor). */
    public EmbedCommand() {
    }

    @Option(names = "--model", paramLabel = "PATH",
            description = "A .onnx file (tokenizer.json or <name>-tokenizer.json next to it), a Hugging Face folder,"
                    + " or a llama.cpp BERT .gguf (tokenizer and pooling from the file).")
    Path model;

    @Option(names = "--json", description = "Print {\"embeddings\": [[...], ...]}.")
    boolean json;

    @Option(names = "--input", paramLabel = "FILE", description = "Read the texts from a JSON array of strings.")
    Path input;

    @Option(names = "--pooling", paramLabel = "MEAN|CLS",
            description = "Pooling (default: the GGUF's bert.pooling_type, else MEAN).")
    Pooling pooling;

    @Parameters(paramLabel = "TEXT", arity = "0..*", description = "Texts to embed.")
    List<String> texts = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (model != null) {
            Flags.exists(model, "--model");
        }
        List<String> all = new ArrayList<>();
        if (input != null) {
            Flags.file(input, "--input", "a JSON file (an array of strings)");
            all.addAll(readJsonStrings(input));
        }
        all.addAll(texts);
        if (all.isEmpty()) {
            throw new IllegalArgumentException("embed: give TEXT arguments or --input FILE (a JSON array of strings)");
        }
        EmbeddingModel loaded;
        try (Progress p = Progress.start("loading " + (model == null ? "the default model" : model.getFileName()))) {
            loaded = model == null ? EmbeddingModel.defaultModel() : EmbeddingModel.open(model);
        }
        try (EmbeddingModel m0 = loaded) {
            EmbeddingModel m = pooling == null ? m0 : m0.withPooling(pooling);
            List<float[]> e = m.embed(all);
            PrintStream out = System.out;
            if (json) {
                StringBuilder sb = new StringBuilder("{\"embeddings\":[");
                for (int i = 0; i < e.size(); i++) {
                    sb.append(i == 0 ? "[" : ",[");
                    float[] v = e.get(i);
                    for (int j = 0; j < v.length; j++) {
                        sb.append(j == 0 ? "" : ",").append(Float.toString(v[j]));
                    }
                    sb.append(']');
                }
                out.println(sb.append("]}"));
            } else {
                for (int i = 0; i < e.size(); i++) {
                    float[] v = e.get(i);
                    StringBuilder sb = new StringBuilder();
                    for (int j = 0; j < Math.min(6, v.length); j++) {
                        sb.append(String.format(Locale.ROOT, "%s%.5f", j == 0 ? "" : ", ", v[j]));
                    }
                    out.printf(Locale.ROOT, "%d\tdim %d\t[%s, ...]\t%s%n", i + 1, v.length, sb, all.get(i));
                }
            }
        }
        return 0;
    }

    static List<String> readJsonStrings(Path file) throws java.io.IOException {
        JsonElement root;
        try {
            root = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("--input " + file + ": not valid JSON (" + e.getMessage() + ")", e);
        }
        if (!root.isJsonArray()) {
            throw new IllegalArgumentException("--input " + file + ": expected a JSON array of strings, found "
                    + (root.isJsonObject() ? "an object" : root.toString()));
        }
        JsonArray a = root.getAsJsonArray();
        List<String> out = new ArrayList<>(a.size());
        for (int i = 0; i < a.size(); i++) {
            JsonElement x = a.get(i);
            if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isString()) {
                throw new IllegalArgumentException("--input " + file + ": element " + i + " is not a string: " + x);
            }
            out.add(x.getAsString());
        }
        return out;
    }
}
