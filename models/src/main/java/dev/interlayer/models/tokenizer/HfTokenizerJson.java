package dev.interlayer.models.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.interlayer.models.io.ModelFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a Hugging Face {@code tokenizer.json}: the model ({@code WordPiece}, byte-level {@code BPE} or
 * SentencePiece-style {@code BPE}), normalizer, pre-tokenizer, post-processor template, added tokens and
 * truncation, plus the sibling tokenizer_config.json's max length and add-BOS/EOS flags. This class (with
 * {@link HfSentencePieceJson} for the ▁ handling) is the one place that maps tokenizer.json keys to our settings.
 */
final class HfTokenizerJson {
    private final Path file;   // for messages; null for streams
    private final JsonObject root;
    private final JsonObject config;      // tokenizer_config.json, or an empty object

    private HfTokenizerJson(Path file, JsonObject root, JsonObject config) {
        this.file = file;
        this.root = root;
        this.config = config;
    }

    static Tokenizer load(Path file) throws IOException {
        JsonObject config = new JsonObject();
        Path configFile = file.resolveSibling("tokenizer_config.json");
        if (Files.isRegularFile(configFile)) {
            config = readConfig(configFile);
        }
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(file, r, config);
        }
    }

    /** A tokenizer_config.json as an object; its model_max_length, if present, must be a number. */
    static JsonObject readConfig(Path config) throws IOException {
        try (Reader r = Files.newBufferedReader(config, StandardCharsets.UTF_8)) {
            JsonObject o = JsonParser.parseReader(r).getAsJsonObject();
            if (o.has("model_max_length")) {
                o.get("model_max_length").getAsDouble();
            }
            return o;
        } catch (JsonParseException | IllegalStateException | NumberFormatException | UnsupportedOperationException ex) {
            throw new ModelFormatException(config, -1, "tokenizer_config.json", "valid JSON with a numeric model_max_length",
                    ex.getMessage(), ex);
        }
    }

    static Tokenizer load(InputStream in, String name) throws IOException {
        try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            return parse(name == null ? null : Path.of(name), r, new JsonObject());
        }
    }

    private static Tokenizer parse(Path file, Reader r, JsonObject config) throws IOException {
        JsonElement e;
        try {
            e = JsonParser.parseReader(r);
        } catch (JsonParseException ex) {
            throw new ModelFormatException(file, -1, "tokenizer.json", "valid JSON", ex.getMessage(), ex);
        }
        if (!e.isJsonObject()) {
            throw new ModelFormatException(file, -1, "tokenizer.json", "a JSON object", e.toString().substring(0,
                    Math.min(40, e.toString().length())));
        }
        try {
            return new HfTokenizerJson(file, e.getAsJsonObject(), config).build();
        } catch (IllegalStateException | IllegalArgumentException | UnsupportedOperationException | NullPointerException
                 | ClassCastException | IndexOutOfBoundsException ex) {
            // Gson's getAsX on a value of the wrong JSON type, or a missing member.
            throw new ModelFormatException(file, -1, "tokenizer.json", "the Hugging Face tokenizer.json schema",
                    String.valueOf(ex.getMessage()), ex);
        }
    }

    private Tokenizer build() throws ModelFormatException {
        JsonObject model = object(root, "model");
        String type = model.has("type") ? model.get("type").getAsString() : guessType(model);
        return switch (type) {
            case "WordPiece" -> wordPiece(model);
            case "BPE" -> bpe(model);
            case "Unigram" -> new HfSentencePieceModels(this, file, root, config).unigram(model);
            default -> throw fail("model.type", "WordPiece, BPE (byte-level or SentencePiece-style) or Unigram", type);
        };
    }

    private static String guessType(JsonObject model) {
        if (model.has("merges")) {
            return "BPE";
        }
        return model.has("continuing_subword_prefix") ? "WordPiece" : "?";
    }

    // ---- WordPiece ----

    private Tokenizer wordPiece(JsonObject model) throws ModelFormatException {
        String[] texts = vocabArray(object(model, "vocab"), "model.vocab");
        TokenType[] types = new TokenType[texts.length];
        java.util.Arrays.fill(types, TokenType.NORMAL);
        Vocabulary v = vocabulary(texts, types, null);
        String unkText = model.has("unk_token") ? model.get("unk_token").getAsString() : "[UNK]";
        int unk = v.id(unkText);
        if (unk < 0) {
            throw fail("model.unk_token", "a token of the vocabulary", unkText);
        }
        BertNormalizer norm = bertNormalizer();
        String prefix = model.has("continuing_subword_prefix") ? model.get("continuing_subword_prefix").getAsString() : "##";
        int maxChars = model.has("max_input_chars_per_word") ? model.get("max_input_chars_per_word").getAsInt() : 100;
        int[][] template = template(v);
        return new WordPieceTokenizer(v, norm, prefix, maxChars, unk, template[0], template[1], maxLength());
    }

    private BertNormalizer bertNormalizer() throws ModelFormatException {
        JsonElement ne = root.get("normalizer");
        if (ne == null || ne.isJsonNull()) {
            return new BertNormalizer(false, false, false, false);
        }
        JsonObject n = ne.getAsJsonObject();
        String t = n.get("type").getAsString();
        if (!t.equals("BertNormalizer")) {
            throw fail("normalizer.type", "BertNormalizer (for a WordPiece model)", t);
        }
        Boolean strip = n.has("strip_accents") && !n.get("strip_accents").isJsonNull()
                ? n.get("strip_accents").getAsBoolean() : null;
        return new BertNormalizer(bool(n, "clean_text", true), bool(n, "handle_chinese_chars", true), strip,
                bool(n, "lowercase", true));
    }

    // ---- byte-level BPE ----

    private Tokenizer bpe(JsonObject model) throws ModelFormatException {
        List<String[]> merges = merges(model);
        if (HfSentencePieceJson.isSentencePiece(root)) {
            return new HfSentencePieceModels(this, file, root, config).bpe(model, merges);
        }
        String[] texts = vocabArray(object(model, "vocab"), "model.vocab");
        TokenType[] types = new TokenType[texts.length];
        java.util.Arrays.fill(types, TokenType.NORMAL);
        Vocabulary v = vocabulary(texts, types, null);
        JsonElement pre = root.get("pre_tokenizer");
        List<String> regexes = new ArrayList<>();
        boolean[] addPrefixSpace = {false};
        boolean[] byteLevel = {false};
        if (pre != null && pre.isJsonObject()) {
            JsonObject p = pre.getAsJsonObject();
            if ("Sequence".equals(p.get("type").getAsString())) {
                for (JsonElement item : p.getAsJsonArray("pretokenizers")) {
                    preTokenizerStep(item.getAsJsonObject(), regexes, addPrefixSpace, byteLevel);
                }
            } else {
                preTokenizerStep(p, regexes, addPrefixSpace, byteLevel);
            }
        }
        if (!byteLevel[0]) {
            throw fail("pre_tokenizer", "a ByteLevel step (byte-level BPE), or Metaspace / a Replace(\" \" -> \"\u2581\") "
                    + "normalizer (SentencePiece-style BPE)", pre == null ? "null" : pre.toString());
        }
        boolean ignoreMerges = bool(model, "ignore_merges", false);
        PreTokenizerRegex regex = new PreTokenizerRegex("tokenizer.json", regexes.toArray(String[]::new));
        int[][] template = template(v);
        return new ByteLevelBpeTokenizer(v, merges, regex, addPrefixSpace[0], ignoreMerges,
                template[0], template[1], maxLength());
    }

    /** model.merges as {left, right} pairs, from either "left right" strings or [left, right] arrays. */
    private List<String[]> merges(JsonObject model) throws ModelFormatException {
        JsonArray mergesJson = model.getAsJsonArray("merges");
        List<String[]> merges = new ArrayList<>(mergesJson == null ? 0 : mergesJson.size());
        if (mergesJson != null) {
            for (JsonElement m : mergesJson) {
                if (m.isJsonArray()) {
                    merges.add(new String[] {m.getAsJsonArray().get(0).getAsString(), m.getAsJsonArray().get(1).getAsString()});
                } else {
                    String s = m.getAsString();
                    int sp = s.indexOf(' ', 1);
                    if (sp < 0) {
                        throw fail("model.merges", "\"left right\" pairs", s);
                    }
                    merges.add(new String[] {s.substring(0, sp), s.substring(sp + 1)});
                }
            }
        }
        return merges;
    }

    /** One pre-tokenizer step: Split (Isolated), ByteLevel (GPT-2 regex if use_regex) or Digits, as a regex. */
    private void preTokenizerStep(JsonObject p, List<String> regexes, boolean[] addPrefixSpace, boolean[] byteLevel)
            throws ModelFormatException {
        String type = p.get("type").getAsString();
        switch (type) {
            case "ByteLevel" -> {
                byteLevel[0] = true;
                addPrefixSpace[0] |= bool(p, "add_prefix_space", false);
                if (bool(p, "use_regex", true)) {
                    regexes.add(PreTokenizerRegex.GPT2_RE);
                }
            }
            case "Split" -> {
                String behavior = p.has("behavior") ? p.get("behavior").getAsString() : "Isolated";
                if (!behavior.equals("Isolated") || bool(p, "invert", false)) {
                    throw fail("pre_tokenizer Split", "behavior Isolated, invert false", behavior);
                }
                JsonObject pattern = p.getAsJsonObject("pattern");
                regexes.add(pattern.has("Regex") ? pattern.get("Regex").getAsString()
                        : java.util.regex.Pattern.quote(pattern.get("String").getAsString()));
            }
            case "Digits" -> regexes.add(bool(p, "individual_digits", false) ? "\\p{N}" : "\\p{N}+");
            default -> throw fail("pre_tokenizer.type", "ByteLevel, Split, Digits or a Sequence of them (byte-level BPE), "
                    + "or Metaspace (SentencePiece-style BPE)", type);
        }
    }

    // ---- shared parts ----

    String[] vocabArray(JsonObject vocab, String field) throws ModelFormatException {
        int n = vocab.size();
        List<JsonObject> added = addedTokens();
        // Every id below n needs a token, so a valid id is below vocab + added tokens: check before sizing the array.
        long maxIds = (long) vocab.size() + added.size();
        for (JsonObject a : added) {
            int id = a.get("id").getAsInt();
            if (id < 0 || id >= maxIds) {
                throw fail("added_tokens", "ids in [0, " + maxIds + ") (model.vocab plus added tokens)",
                        a.get("content") + " -> " + id);
            }
            n = Math.max(n, id + 1);
        }
        String[] texts = new String[n];
        for (Map.Entry<String, JsonElement> e : vocab.entrySet()) {
            int id = e.getValue().getAsInt();
            if (id < 0 || id >= n) {
                throw fail(field, "ids in [0, " + n + ")", e.getKey() + " -> " + id);
            }
            if (texts[id] != null) {
                throw fail(field, "distinct ids", "id " + id + " for both '" + texts[id] + "' and '" + e.getKey() + "'");
            }
            texts[id] = e.getKey();
        }
        for (JsonObject a : added) {
            texts[a.get("id").getAsInt()] = a.get("content").getAsString();
        }
        for (int i = 0; i < n; i++) {
            if (texts[i] == null) {
                throw fail(field, "every id in [0, " + n + ") to have a token", "no token for id " + i);
            }
        }
        return texts;
    }

    Vocabulary vocabulary(String[] texts, TokenType[] types, float[] scores) throws ModelFormatException {
        return vocabulary(texts, types, scores, -1);
    }

    /** As {@link #vocabulary(String[], TokenType[], float[])}, with the model's own unknown-token id (-1: none). */
    Vocabulary vocabulary(String[] texts, TokenType[] types, float[] scores, int unk) throws ModelFormatException {
        for (JsonObject a : addedTokens()) {
            int id = a.get("id").getAsInt();
            types[id] = bool(a, "special", false) ? TokenType.CONTROL : TokenType.USER_DEFINED;
        }
        Map<String, Integer> specials = new HashMap<>();
        if (unk >= 0) {
            specials.put("unk", unk);
        }
        Vocabulary probe = new Vocabulary(texts, types, scores, Map.of());
        // Names from the usual special-token texts; tokenizer_config.json is not read here.
        for (String[] pair : new String[][] {{"unk", "[UNK]"}, {"cls", "[CLS]"}, {"sep", "[SEP]"}, {"pad", "[PAD]"},
                {"mask", "[MASK]"}, {"bos", "<s>"}, {"eos", "</s>"}, {"unk", "<unk>"}, {"pad", "<pad>"},
                {"eos", "<|endoftext|>"}, {"bos", "<|endoftext|>"}}) {
            int id = probe.id(pair[1]);
            if (id >= 0 && types[id] != TokenType.NORMAL) {
                specials.putIfAbsent(pair[0], id);
            }
        }
        if (specials.containsKey("cls")) {
            specials.putIfAbsent("bos", specials.get("cls"));
        }
        if (specials.containsKey("sep")) {
            specials.putIfAbsent("eos", specials.get("sep"));
        }
        JsonElement pad = root.get("padding");
        if (pad != null && pad.isJsonObject() && pad.getAsJsonObject().has("pad_id")) {
            specials.put("pad", pad.getAsJsonObject().get("pad_id").getAsInt());
        }
        Vocabulary v = new Vocabulary(texts, types, scores, specials);
        for (JsonObject a : addedTokens()) {
            v.setStrip(a.get("id").getAsInt(), bool(a, "lstrip", false), bool(a, "rstrip", false));
            // Hugging Face's default: special tokens match the raw input, others the normalized text.
            v.setNormalized(a.get("id").getAsInt(), bool(a, "normalized", !bool(a, "special", false)));
        }
        return v;
    }

    private List<JsonObject> addedTokens() {
        List<JsonObject> out = new ArrayList<>();
        JsonElement at = root.get("added_tokens");
        if (at != null && at.isJsonArray()) {
            for (JsonElement e : at.getAsJsonArray()) {
                out.add(e.getAsJsonObject());
            }
        }
        return out;
    }

    /** {prefix ids, suffix ids} of the single-sequence post-processor template. */
    int[][] template(Vocabulary v) throws ModelFormatException {
        JsonElement pe = root.get("post_processor");
        if (pe == null || pe.isJsonNull()) {
            return new int[][] {{}, {}};
        }
        JsonObject p = pe.getAsJsonObject();
        String type = p.get("type").getAsString();
        switch (type) {
            case "TemplateProcessing" -> {
                List<Integer> pre = new ArrayList<>();
                List<Integer> post = new ArrayList<>();
                boolean seenSeq = false;
                JsonObject specialsMap = p.has("special_tokens") ? p.getAsJsonObject("special_tokens") : new JsonObject();
                for (JsonElement item : p.getAsJsonArray("single")) {
                    JsonObject o = item.getAsJsonObject();
                    if (o.has("Sequence")) {
                        seenSeq = true;
                    } else if (o.has("SpecialToken")) {
                        String name = o.getAsJsonObject("SpecialToken").get("id").getAsString();
                        List<Integer> ids = new ArrayList<>();
                        if (specialsMap.has(name)) {
                            for (JsonElement id : specialsMap.getAsJsonObject(name).getAsJsonArray("ids")) {
                                ids.add(id.getAsInt());
                            }
                        } else if (v.id(name) >= 0) {
                            ids.add(v.id(name));
                        } else {
                            throw fail("post_processor.single", "a known special token", name);
                        }
                        (seenSeq ? post : pre).addAll(ids);
                    }
                }
                return new int[][] {toInts(pre), toInts(post)};
            }
            case "BertProcessing", "RobertaProcessing" -> {
                int cls = p.getAsJsonArray("cls").get(1).getAsInt();
                int sep = p.getAsJsonArray("sep").get(1).getAsInt();
                return new int[][] {{cls}, {sep}};
            }
            case "ByteLevel" -> {
                return new int[][] {{}, {}};
            }
            default -> throw fail("post_processor.type", "TemplateProcessing, BertProcessing, RobertaProcessing or ByteLevel",
                    type);
        }
    }

    /**
     * truncation.max_length of tokenizer.json, else tokenizer_config.json's model_max_length, else unlimited;
     * transformers writes a huge sentinel (1e30) for "no limit", so anything beyond int range counts as unlimited.
     */
    int maxLength() {
        JsonElement t = root.get("truncation");
        if (t != null && t.isJsonObject() && t.getAsJsonObject().has("max_length")) {
            return t.getAsJsonObject().get("max_length").getAsInt();
        }
        if (config.has("model_max_length") && !config.get("model_max_length").isJsonNull()) {
            double v = config.get("model_max_length").getAsDouble();
            return v >= 1 && v < Integer.MAX_VALUE ? (int) v : Integer.MAX_VALUE;
        }
        return Integer.MAX_VALUE;
    }

    private static int[] toInts(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    static boolean bool(JsonObject o, String key, boolean dflt) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? dflt : e.getAsBoolean();
    }

    JsonObject object(JsonObject o, String key) throws ModelFormatException {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonObject()) {
            throw fail(key, "a JSON object", e == null ? "nothing" : e.toString().substring(0, Math.min(40, e.toString().length())));
        }
        return e.getAsJsonObject();
    }

    ModelFormatException fail(String field, String expected, String found) {
        return new ModelFormatException(file, -1, field, expected, found);
    }
}
