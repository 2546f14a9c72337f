package dev.interlayer.models.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.interlayer.models.io.ModelFormatException;
import java.nio.file.Path;
import java.util.List;

/**
 * Builds the SentencePiece-style models of a tokenizer.json: BPE with {@code ▁} and byte fallback
 * (Llama 2, Mistral) and Unigram (T5-style [piece, log-probability] vocabulary), both as an
 * {@link SpmTokenizer} whose space handling {@link HfSentencePieceJson} reads. Vocabulary, added tokens
 * and the post-processor template come from {@link HfTokenizerJson}; the sibling tokenizer_config.json's
 * add_bos_token / add_eos_token override that template, as transformers' Llama tokenizer does.
 */
final class HfSentencePieceModels {
    private final HfTokenizerJson json;
    private final Path file;          // for messages
    private final JsonObject root;
    private final JsonObject config;  // tokenizer_config.json, or an empty object

    HfSentencePieceModels(HfTokenizerJson json, Path file, JsonObject root, JsonObject config) {
        this.json = json;
        this.file = file;
        this.root = root;
        this.config = config;
    }

    /** SentencePiece-style BPE (Llama 2, Mistral): ▁ for spaces, {@code <0xNN>} byte fallback, merge ranks. */
    Tokenizer bpe(JsonObject model, List<String[]> merges) throws ModelFormatException {
        // Options these files never use; rejected rather than ignored, since each would change the ids.
        for (String key : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            JsonElement e = model.get(key);
            if (e != null && !e.isJsonNull() && !e.getAsString().isEmpty()) {
                throw json.fail("model." + key, "null for a SentencePiece-style BPE", e.getAsString());
            }
        }
        JsonElement dropout = model.get("dropout");
        if (dropout != null && !dropout.isJsonNull() && dropout.getAsDouble() != 0) {
            throw json.fail("model.dropout", "null (random BPE dropout is a training option)", dropout.toString());
        }
        String[] texts = json.vocabArray(json.object(model, "vocab"), "model.vocab");
        TokenType[] types = new TokenType[texts.length];
        boolean byteFallback = HfTokenizerJson.bool(model, "byte_fallback", false);
        for (int i = 0; i < texts.length; i++) {
            types[i] = byteFallback && isByteToken(texts[i]) ? TokenType.BYTE : TokenType.NORMAL;
        }
        int unk = -1;
        if (model.has("unk_token") && !model.get("unk_token").isJsonNull()) {
            String unkText = model.get("unk_token").getAsString();
            unk = java.util.Arrays.asList(texts).indexOf(unkText);
            if (unk < 0) {
                throw json.fail("model.unk_token", "a token of the vocabulary", unkText);
            }
        }
        Vocabulary v = json.vocabulary(texts, types, null, unk);
        MergeRanks ranks;
        try {
            ranks = new MergeRanks(v, merges);
        } catch (IllegalArgumentException ex) {
            throw json.fail("model.merges", "merges of vocabulary tokens", ex.getMessage());
        }
        SpmTokenizer.Options options = HfSentencePieceJson.options(file, root, model, ranks, null, unk);
        int[][] template = configTemplate(v);
        if (template == null) {
            template = json.template(v);
        }
        return new SpmTokenizer(v, options, template[0], template[1], json.maxLength());
    }

    /** SentencePiece Unigram: vocab of [piece, log-probability] pairs, unk_id, byte_fallback; same ▁ handling. */
    Tokenizer unigram(JsonObject model) throws ModelFormatException {
        JsonElement vj = model.get("vocab");
        if (vj == null || !vj.isJsonArray()) {
            throw json.fail("model.vocab", "an array of [piece, score] pairs (Unigram)", String.valueOf(vj));
        }
        JsonArray list = vj.getAsJsonArray();
        int modelSize = list.size();
        JsonObject asMap = new JsonObject();
        double[] scores = new double[modelSize];
        for (int i = 0; i < modelSize; i++) {
            JsonArray pair = list.get(i).getAsJsonArray();
            String piece = pair.get(0).getAsString();
            if (asMap.has(piece)) {
                throw json.fail("model.vocab", "distinct pieces",
                        "'" + piece + "' at ids " + asMap.get(piece) + " and " + i);
            }
            asMap.addProperty(piece, i);
            scores[i] = pair.get(1).getAsDouble();
        }
        String[] texts = json.vocabArray(asMap, "model.vocab");
        boolean byteFallback = HfTokenizerJson.bool(model, "byte_fallback", false);
        TokenType[] types = new TokenType[texts.length];
        float[] floatScores = new float[texts.length];
        for (int i = 0; i < texts.length; i++) {
            types[i] = byteFallback && isByteToken(texts[i]) ? TokenType.BYTE : TokenType.NORMAL;
            floatScores[i] = i < modelSize ? (float) scores[i] : 0f;
        }
        int unk = -1;
        if (model.has("unk_id") && !model.get("unk_id").isJsonNull()) {
            unk = model.get("unk_id").getAsInt();
            if (unk < 0 || unk >= modelSize) {
                throw json.fail("model.unk_id", "an id in [0, " + modelSize + ")", String.valueOf(unk));
            }
        }
        Vocabulary v = json.vocabulary(texts, types, floatScores, unk);
        UnigramModel um = new UnigramModel(v, scores, unk, byteFallback);
        SpmTokenizer.Options options = HfSentencePieceJson.options(file, root, model, null, um, unk);
        int[][] template = configTemplate(v);
        if (template == null) {
            template = json.template(v);
        }
        return new SpmTokenizer(v, options, template[0], template[1], json.maxLength());
    }

    private static boolean isByteToken(String t) {
        return t.length() == 6 && t.startsWith("<0x") && t.endsWith(">") && t.substring(3, 5).matches("[0-9A-F]{2}");
    }

    /**
     * {prefix, suffix} from tokenizer_config.json's add_bos_token / add_eos_token (transformers' Llama
     * tokenizer rebuilds its template from these, defaults true / false), or null if neither key is set.
     */
    private int[][] configTemplate(Vocabulary v) throws ModelFormatException {
        if (!config.has("add_bos_token") && !config.has("add_eos_token")) {
            return null;
        }
        boolean bos = HfTokenizerJson.bool(config, "add_bos_token", true);
        boolean eos = HfTokenizerJson.bool(config, "add_eos_token", false);
        int[] pre = bos ? new int[] {configToken(v, "bos_token", "<s>")} : new int[0];
        int[] post = eos ? new int[] {configToken(v, "eos_token", "</s>")} : new int[0];
        return new int[][] {pre, post};
    }

    /** Id of tokenizer_config.json's {@code key} token (a string or an object with "content"), or of {@code dflt}. */
    private int configToken(Vocabulary v, String key, String dflt) throws ModelFormatException {
        JsonElement e = config.get(key);
        String text = e == null || e.isJsonNull() ? dflt
                : e.isJsonObject() ? e.getAsJsonObject().get("content").getAsString() : e.getAsString();
        int id = v.id(text);
        if (id < 0) {
            throw json.fail("tokenizer_config.json " + key, "a token of the vocabulary", text);
        }
        return id;
    }
}
