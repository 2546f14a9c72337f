package dev.interlayer.models.tokenizer;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.interlayer.models.io.ModelFormatException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Reads the space handling of a SentencePiece-style tokenizer.json (BPE: Llama 2, TinyLlama, Mistral,
 * CodeLlama; or Unigram: {@code ▁} for spaces, {@code <0xNN>} byte fallback) into
 * {@link SpmTokenizer.Options}. Accepted are the layouts that Hugging Face's converters write:
 * <ul>
 *   <li>legacy: normalizer {@code Sequence[Prepend("▁"), Replace(" " -> "▁")]}, no pre-tokenizer;</li>
 *   <li>newer: no normalizer, pre-tokenizer {@code Metaspace(replacement "▁", prepend_scheme, split)};</li>
 * </ul>
 * with decoder {@code Sequence[Replace("▁" -> " "), ByteFallback, Fuse, Strip(" ", 1, 0)]} or {@code Metaspace}
 * (also a Prepend-less Replace normalizer, as Gemma's, and Metaspace {@code split}). Text steps may come
 * before the ▁ handling in the normalizer ({@code Precompiled}, {@code Replace}, {@code Lowercase}, Unicode
 * forms: T5, ALBERT, XLM-R; see {@link HfNormalizers}), and the pre-tokenizer may be
 * {@code Sequence[WhitespaceSplit, Metaspace]} (T5, ALBERT). Other steps fail with a named error.
 */
final class HfSentencePieceJson {
    private static final String META = String.valueOf(SpmTokenizer.SPACE);

    private final Path file;   // for messages
    private SpmTokenizer.Prefix prefix = SpmTokenizer.Prefix.NEVER;
    private boolean replacesSpaces;
    private boolean split;
    private boolean decodeMeta;
    private boolean decodeBytes;
    private SpmTokenizer.FirstToken firstToken = SpmTokenizer.FirstToken.KEEP;
    private UnaryOperator<String> textSteps;   // Precompiled, Replace, Lowercase...: before the ▁ handling
    private boolean whitespaceSplit;

    private HfSentencePieceJson(Path file) {
        this.file = file;
    }

    /** True if {@code root} describes a ▁-based (not byte-level) BPE: a Metaspace pre-tokenizer or Prepend/Replace to ▁. */
    static boolean isSentencePiece(JsonObject root) {
        for (JsonObject o : steps(root.get("pre_tokenizer"), "pretokenizers")) {
            if ("Metaspace".equals(type(o))) {
                return true;
            }
        }
        for (JsonObject o : steps(root.get("normalizer"), "normalizers")) {
            boolean toMeta = o.has("content") && META.equals(o.get("content").getAsString());
            if ("Prepend".equals(type(o)) || ("Replace".equals(type(o)) && toMeta)) {
                return true;
            }
        }
        return false;
    }

    /** The steps of a normalizer/pre-tokenizer/decoder: its Sequence's items, itself, or none for null. */
    private static List<JsonObject> steps(JsonElement e, String sequenceKey) {
        if (e == null || !e.isJsonObject()) {
            return List.of();
        }
        JsonObject o = e.getAsJsonObject();
        if (!"Sequence".equals(type(o))) {
            return List.of(o);
        }
        return o.getAsJsonArray(sequenceKey).asList().stream().map(JsonElement::getAsJsonObject).toList();
    }

    /** Options for a BPE ({@code merges}) or Unigram model with the file's normalizer, pre-tokenizer and decoder. */
    static SpmTokenizer.Options options(Path file, JsonObject root, JsonObject model, MergeRanks merges,
                                        UnigramModel unigram, int unk) throws ModelFormatException {
        HfSentencePieceJson p = new HfSentencePieceJson(file);
        p.normalizer(root.get("normalizer"));
        p.preTokenizer(root.get("pre_tokenizer"));
        p.decoder(root.get("decoder"));
        if (!p.replacesSpaces) {
            throw p.fail("normalizer/pre_tokenizer", "Replace(\" \" -> \"" + META + "\") or Metaspace for a "
                    + "SentencePiece-style model", String.valueOf(root.get("normalizer")));
        }
        if (!p.decodeMeta) {
            throw p.fail("decoder", "Replace(\"" + META + "\" -> \" \") or Metaspace for a SentencePiece-style model",
                    String.valueOf(root.get("decoder")));
        }
        if (bool(model, "ignore_merges", false)) {
            throw p.fail("model.ignore_merges", "false for a SentencePiece-style BPE", "true");
        }
        return new SpmTokenizer.Options(p.prefix, p.split, merges, unigram, bool(model, "byte_fallback", false), unk,
                bool(model, "fuse_unk", false), p.decodeBytes, p.firstToken, p.textSteps, p.whitespaceSplit);
    }

    private void normalizer(JsonElement e) throws ModelFormatException {
        boolean metaStep = false;
        for (JsonObject o : steps(e, "normalizers")) {
            if ("Prepend".equals(type(o))) {
                expect(o, "prepend", META, "normalizer Prepend.prepend");
                prefix = SpmTokenizer.Prefix.NORMALIZER;
                metaStep = true;
            } else if (isSpaceToMeta(o)) {
                replacesSpaces = true;
                metaStep = true;
            } else {
                UnaryOperator<String> step;
                try {
                    step = HfNormalizers.step(o);
                } catch (IllegalArgumentException ex) {
                    throw fail("normalizer", "a well-formed " + type(o) + " step", ex.getMessage());
                }
                if (step == null) {
                    throw fail("normalizer.type", "Prepend(\"" + META + "\"), Replace, " + HfNormalizers.SUPPORTED
                            + " or a Sequence of them, for a SentencePiece-style model", type(o));
                }
                if (metaStep) {   // the model applies the ▁ steps last, so text steps must come first
                    throw fail("normalizer", type(o) + " before the Prepend/Replace(\" \" -> \"" + META + "\") steps",
                            type(o) + " after them");
                }
                textSteps = HfNormalizers.andThen(textSteps, step);
            }
        }
    }

    private static boolean isSpaceToMeta(JsonObject o) {
        JsonElement p = o.get("pattern");
        return "Replace".equals(type(o)) && p != null && p.isJsonObject() && p.getAsJsonObject().has("String")
                && " ".equals(p.getAsJsonObject().get("String").getAsString()) && o.has("content")
                && META.equals(o.get("content").getAsString());
    }

    private void preTokenizer(JsonElement e) throws ModelFormatException {
        if (e == null || e.isJsonNull()) {
            return;
        }
        JsonObject p = e.getAsJsonObject();
        if ("Sequence".equals(type(p)) && p.getAsJsonArray("pretokenizers").size() == 2
                && "WhitespaceSplit".equals(type(p.getAsJsonArray("pretokenizers").get(0).getAsJsonObject()))) {
            whitespaceSplit = true;          // T5 / ALBERT: words at whitespace, then Metaspace on each
            p = p.getAsJsonArray("pretokenizers").get(1).getAsJsonObject();
        } else if ("Sequence".equals(type(p)) && p.getAsJsonArray("pretokenizers").size() == 1) {
            p = p.getAsJsonArray("pretokenizers").get(0).getAsJsonObject();
        }
        if (!"Metaspace".equals(type(p))) {
            throw fail("pre_tokenizer.type", "Metaspace, Sequence[WhitespaceSplit, Metaspace] or null, for a "
                    + "SentencePiece-style model", type(p));
        }
        expect(p, "replacement", META, "pre_tokenizer Metaspace.replacement");
        replacesSpaces = true;
        split = bool(p, "split", true);
        // Older files have add_prefix_space instead of prepend_scheme (true meant "always").
        String scheme = p.has("prepend_scheme") ? p.get("prepend_scheme").getAsString()
                : bool(p, "add_prefix_space", true) ? "always" : "never";
        SpmTokenizer.Prefix meta = switch (scheme) {
            case "first" -> SpmTokenizer.Prefix.FIRST;
            case "always" -> SpmTokenizer.Prefix.ALWAYS;
            case "never" -> SpmTokenizer.Prefix.NEVER;
            default -> throw fail("pre_tokenizer Metaspace.prepend_scheme", "first, always or never", scheme);
        };
        if (prefix == SpmTokenizer.Prefix.NEVER) {   // a Prepend normalizer already put ▁ in front of every fragment
            prefix = meta;
        }
    }

    private void decoder(JsonElement e) throws ModelFormatException {
        if (e == null || e.isJsonNull()) {
            throw fail("decoder", "Sequence[Replace, ByteFallback, Fuse, Strip] or Metaspace", "null");
        }
        for (JsonObject o : steps(e, "decoders")) {
            switch (type(o)) {
                case "Replace" -> {
                    expect(o.getAsJsonObject("pattern"), "String", META, "decoder Replace.pattern");
                    expect(o, "content", " ", "decoder Replace.content");
                    decodeMeta = true;
                }
                case "ByteFallback" -> decodeBytes = true;
                case "Fuse" -> { }   // we always concatenate
                case "Strip" -> {
                    expect(o, "content", " ", "decoder Strip.content");
                    int start = o.has("start") ? o.get("start").getAsInt() : 0;
                    int stop = o.has("stop") ? o.get("stop").getAsInt() : 0;
                    if (start > 1 || start < 0 || stop != 0) {
                        throw fail("decoder Strip", "start 0 or 1, stop 0", "start " + start + ", stop " + stop);
                    }
                    firstToken = start == 1 ? SpmTokenizer.FirstToken.STRIP_SPACE : SpmTokenizer.FirstToken.KEEP;
                }
                case "Metaspace" -> {
                    expect(o, "replacement", META, "decoder Metaspace.replacement");
                    decodeMeta = true;
                    String scheme = o.has("prepend_scheme") ? o.get("prepend_scheme").getAsString()
                            : bool(o, "add_prefix_space", true) ? "always" : "never";
                    firstToken = scheme.equals("never") ? SpmTokenizer.FirstToken.KEEP : SpmTokenizer.FirstToken.DROP_META;
                }
                default -> throw fail("decoder.type", "Replace, ByteFallback, Fuse, Strip, Metaspace or a Sequence of them"
                        + " (SentencePiece-style model)", type(o));
            }
        }
    }

    private void expect(JsonObject o, String key, String want, String field) throws ModelFormatException {
        String got = o == null || !o.has(key) || o.get(key).isJsonNull() ? null : o.get(key).getAsString();
        if (!want.equals(got)) {
            throw fail(field, "\"" + want + "\"", got == null ? "nothing" : "\"" + got + "\"");
        }
    }

    private static String type(JsonObject o) {
        return o.has("type") ? o.get("type").getAsString() : "?";
    }

    private static boolean bool(JsonObject o, String key, boolean dflt) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? dflt : e.getAsBoolean();
    }

    private ModelFormatException fail(String field, String expected, String found) {
        return new ModelFormatException(file, -1, field, expected, found);
    }
}
