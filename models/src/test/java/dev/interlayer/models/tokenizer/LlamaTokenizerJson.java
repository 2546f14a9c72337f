package dev.interlayer.models.tokenizer;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.SharedModels;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a Llama-2-style tokenizer.json from llama.cpp's llama-spm vocab GGUF the way transformers'
 * LlamaConverter does (SentencePieceExtractor with scores): vocab = pieces with their ids; for every
 * piece, every split into two pieces both in the vocabulary, ordered within the piece by (left id,
 * right id); all merges then stably sorted by the merged piece's score, highest first. The first three
 * pieces get score 0 as the converter does. Two layouts: legacy (Prepend/Replace normalizer) and
 * Metaspace (pre-tokenizer {@code prepend_scheme "first"}, split false).
 */
final class LlamaTokenizerJson {
    static final String META = "\u2581";
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private LlamaTokenizerJson() {
    }

    enum Layout { LEGACY, METASPACE }

    /** Pieces and scores of the llama-spm vocab GGUF. */
    record Pieces(String[] texts, float[] scores) {
        static Pieces llamaSpm() throws IOException {
            Path p = SharedModels.require("tokenizers/ggml-vocab-llama-spm.gguf");
            try (GgufFile g = Gguf.open(p)) {
                Object toks = g.metadata().get("tokenizer.ggml.tokens");
                Object sc = g.metadata().get("tokenizer.ggml.scores");
                int n = toks instanceof List<?> l ? l.size() : Array.getLength(toks);
                String[] texts = new String[n];
                float[] scores = new float[n];
                for (int i = 0; i < n; i++) {
                    texts[i] = (String) (toks instanceof List<?> l ? l.get(i) : Array.get(toks, i));
                    scores[i] = ((Number) (sc instanceof List<?> l ? l.get(i) : Array.get(sc, i))).floatValue();
                }
                return new Pieces(texts, scores);
            }
        }
    }

    /** Merges as LlamaConverter derives them from the vocabulary scores. */
    static List<String[]> merges(Pieces p) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < p.texts.length; i++) {
            ids.put(p.texts[i], i);   // later duplicates win, as in the converter's dict comprehension
        }
        record Merge(String left, String right, float score) {
        }
        List<Merge> all = new ArrayList<>();
        for (int i = 0; i < p.texts.length; i++) {
            String piece = p.texts[i];
            float score = i < 3 ? 0f : p.scores[i];
            List<Merge> local = new ArrayList<>();
            int cps = piece.codePointCount(0, piece.length());
            for (int k = 1; k < cps; k++) {   // Python slices by code point
                int at = piece.offsetByCodePoints(0, k);
                String l = piece.substring(0, at);
                String r = piece.substring(at);
                if (ids.containsKey(l) && ids.containsKey(r)) {
                    local.add(new Merge(l, r, score));
                }
            }
            local.sort(Comparator.comparingInt((Merge m) -> ids.get(m.left)).thenComparingInt(m -> ids.get(m.right)));
            all.addAll(local);
        }
        all.sort(Comparator.comparingDouble((Merge m) -> -m.score));   // List.sort is stable, as Python's sorted
        return all.stream().map(m -> new String[] {m.left, m.right}).toList();
    }

    /** An {@code added_tokens} entry for a special token (not normalized, no lstrip). */
    static JsonObject specialToken(int id, String content, boolean rstrip) {
        JsonObject a = new JsonObject();
        a.addProperty("id", id);
        a.addProperty("content", content);
        a.addProperty("single_word", false);
        a.addProperty("lstrip", false);
        a.addProperty("rstrip", rstrip);
        a.addProperty("normalized", false);
        a.addProperty("special", true);
        return a;
    }

    /** The tokenizer.json text for {@code p} in {@code layout}. */
    static String json(Pieces p, Layout layout) {
        JsonObject root = new JsonObject();
        root.addProperty("version", "1.0");
        JsonArray added = new JsonArray();
        for (int id = 0; id < 3; id++) {
            added.add(specialToken(id, p.texts[id], false));
        }
        root.add("added_tokens", added);
        if (layout == Layout.LEGACY) {
            root.add("normalizer", parse("{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\""
                    + META + "\"},{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"" + META + "\"}]}"));
            root.add("pre_tokenizer", null);
        } else {
            root.add("normalizer", null);
            root.add("pre_tokenizer", parse("{\"type\":\"Metaspace\",\"replacement\":\"" + META
                    + "\",\"prepend_scheme\":\"first\",\"split\":false}"));
        }
        root.add("post_processor", parse("{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\","
                + "\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"pair\":[],\"special_tokens\":{\"<s>\":"
                + "{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}}"));
        root.add("decoder", parse("{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\""
                + META + "\"},\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},{\"type\":\"Strip\","
                + "\"content\":\" \",\"start\":1,\"stop\":0}]}"));
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.addProperty("unk_token", "<unk>");
        model.addProperty("fuse_unk", true);
        model.addProperty("byte_fallback", true);
        model.addProperty("ignore_merges", false);
        JsonObject vocab = new JsonObject();
        for (int i = 0; i < p.texts.length; i++) {
            vocab.addProperty(p.texts[i], i);
        }
        model.add("vocab", vocab);
        JsonArray merges = new JsonArray();
        for (String[] m : merges(p)) {
            JsonArray pair = new JsonArray();
            pair.add(m[0]);
            pair.add(m[1]);
            merges.add(pair);
        }
        model.add("merges", merges);
        root.add("model", model);
        return GSON.toJson(root);
    }

    private static final Map<Layout, String> CACHE = new java.util.EnumMap<>(Layout.class);

    /** Writes {@code json(p, layout)} (built once per layout) to {@code dir/tokenizer.json} and loads it via the public API. */
    static synchronized Tokenizer load(Pieces p, Layout layout, Path dir) throws IOException {
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, CACHE.computeIfAbsent(layout, l -> json(p, l)), StandardCharsets.UTF_8);
        return Tokenizers.fromHuggingFace(f);
    }

    private static JsonObject parse(String s) {
        return JsonParser.parseString(s).getAsJsonObject();
    }
}
