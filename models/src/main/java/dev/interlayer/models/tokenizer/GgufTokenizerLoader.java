package dev.interlayer.models.tokenizer;

import java.lang.reflect.Array;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Maps GGUF {@code tokenizer.ggml.*} metadata to a tokenizer. This class is the one place that knows
 * the GGUF key names and llama.cpp's defaults for absent keys.
 */
final class GgufTokenizerLoader {
    private static final String P = "tokenizer.ggml.";

    private GgufTokenizerLoader() {
    }

    static Tokenizer load(Map<String, Object> md) {
        String model = string(md, P + "model", null);
        if (model == null) {
            throw new IllegalArgumentException("GGUF metadata: missing " + P + "model (the file has no tokenizer)");
        }
        String[] texts = strings(md, P + "tokens");
        TokenType[] types = new TokenType[texts.length];
        int[] rawTypes = md.containsKey(P + "token_type") ? ints(md, P + "token_type") : null;
        if (rawTypes != null && rawTypes.length != texts.length) {
            throw new IllegalArgumentException("GGUF metadata: " + P + "token_type has " + rawTypes.length
                    + " entries but " + P + "tokens has " + texts.length);
        }
        for (int i = 0; i < texts.length; i++) {
            types[i] = rawTypes == null ? TokenType.NORMAL : TokenType.fromGguf(rawTypes[i]);
        }
        float[] scores = md.containsKey(P + "scores") ? floats(md, P + "scores") : null;
        if (scores != null && scores.length != texts.length) {
            throw new IllegalArgumentException("GGUF metadata: " + P + "scores has " + scores.length
                    + " entries but " + P + "tokens has " + texts.length);
        }
        int maxLength = Integer.MAX_VALUE;
        return switch (model) {
            case "llama" -> {
                Map<String, Integer> sp = specials(md, Map.of("bos", 1, "eos", 2, "unk", 0));
                Vocabulary v = new Vocabulary(texts, types, scores, sp);
                stripAttributes(md, v);
                boolean addBos = bool(md, P + "add_bos_token", true);
                boolean addEos = bool(md, P + "add_eos_token", false);
                boolean spacePrefix = bool(md, P + "add_space_prefix", true);
                yield new SpmTokenizer(v, SpmTokenizer.Options.llamaCpp(v, spacePrefix), bosEos(v, addBos, true),
                        bosEos(v, addEos, false), maxLength);
            }
            case "gpt2" -> {
                String pre = string(md, P + "pre", "default");
                Map<String, Integer> sp = specials(md, Map.of());
                Vocabulary v = new Vocabulary(texts, types, scores, sp);
                String[] rawMerges = strings(md, P + "merges");
                // Split on access: the tokenizer turns each merge into an id pair at once, so the 100k+ small
                // pairs never live together (they would be promoted and grow the resident old generation).
                List<String[]> merges = new AbstractList<>() {
                    @Override
                    public String[] get(int i) {
                        String m = rawMerges[i];
                        int at = m.indexOf(' ', 1);
                        if (at < 0) {
                            throw new IllegalArgumentException("GGUF metadata: " + P + "merges entry '" + m
                                    + "' is not 'left right'");
                        }
                        return new String[] {m.substring(0, at), m.substring(at + 1)};
                    }

                    @Override
                    public int size() {
                        return rawMerges.length;
                    }
                };
                PreTokenizerRegex regex = PreTokenizerRegex.forGgufPre(pre);
                boolean llama3 = regex == PreTokenizerRegex.LLAMA3;
                boolean addBos = bool(md, P + "add_bos_token", llama3);
                boolean addEos = bool(md, P + "add_eos_token", false);
                yield new ByteLevelBpeTokenizer(v, merges, regex, false, llama3,
                        bosEos(v, addBos, true), bosEos(v, addEos, false), maxLength);
            }
            case "bert" -> bert(md, texts, types);
            default -> throw new IllegalArgumentException("GGUF metadata: " + P + "model '" + model
                    + "' is not supported (supported: llama, gpt2, bert)");
        };
    }

    /**
     * llama.cpp's converter stores a WordPiece vocabulary as: {@code ##x} -> {@code x}, {@code [X]}
     * specials unchanged, any other token {@code t} -> {@code ▁t}. We undo that and run the same
     * WordPiece as for tokenizer.json (lower-casing, accent stripping and CJK splitting on, as for
     * uncased BERT and as llama.cpp's WPM always does).
     */
    private static Tokenizer bert(Map<String, Object> md, String[] texts, TokenType[] types) {
        String[] hf = new String[texts.length];
        for (int i = 0; i < texts.length; i++) {
            String t = texts[i];
            if (t.startsWith("\u2581")) {
                hf[i] = t.substring(1);
                types[i] = types[i] == TokenType.CONTROL ? TokenType.NORMAL : types[i];
            } else if (types[i] == TokenType.CONTROL || types[i] == TokenType.UNKNOWN
                    || (t.startsWith("[") && t.endsWith("]") && t.length() > 2)) {
                hf[i] = t;
            } else {
                hf[i] = "##" + t;
            }
        }
        Map<String, Integer> sp = specials(md, Map.of("cls", 101, "sep", 102, "unk", 100, "pad", 0, "mask", 103));
        sp.putIfAbsent("bos", sp.get("cls"));
        sp.putIfAbsent("eos", sp.get("sep"));
        Vocabulary v = new Vocabulary(hf, types, null, sp);
        boolean addBos = bool(md, P + "add_bos_token", true);
        boolean addEos = bool(md, P + "add_eos_token", true);
        int[] prefix = addBos ? new int[] {sp.get("cls")} : new int[0];
        int[] suffix = addEos ? new int[] {sp.get("sep")} : new int[0];
        return new WordPieceTokenizer(v, new BertNormalizer(true, true, null, true), "##", 100, sp.get("unk"),
                prefix, suffix, Integer.MAX_VALUE);
    }

    /**
     * Phi-3's special tokens swallow the whitespace that follows them, as its tokenizer.json says (rstrip);
     * GGUF has no field for that, so llama.cpp sets it by model name and we do the same: every control,
     * user-defined and unknown token except {@code <unk>}, {@code <s>} and {@code <|endoftext|>}.
     */
    private static void stripAttributes(Map<String, Object> md, Vocabulary v) {
        String name = md.get("general.name") instanceof String s ? s.toLowerCase(java.util.Locale.ROOT) : "";
        if (!name.contains("phi-3") && !name.contains("phi3")) {
            return;
        }
        for (int id = 0; id < v.size(); id++) {
            TokenType t = v.type(id);
            if (t == TokenType.CONTROL || t == TokenType.USER_DEFINED || t == TokenType.UNKNOWN) {
                v.setStrip(id, false, true);
            }
        }
        for (String keep : new String[] {"<unk>", "<s>", "<|endoftext|>"}) {
            int id = v.id(keep);
            if (id >= 0) {
                v.setStrip(id, false, false);
            }
        }
    }

    private static int[] bosEos(Vocabulary v, boolean add, boolean bos) {
        if (!add) {
            return new int[0];
        }
        int id = v.specialOr(bos ? "bos" : "eos");
        if (id < 0) {
            throw new IllegalArgumentException("GGUF metadata: " + P + "add_" + (bos ? "bos" : "eos")
                    + "_token is true but no " + (bos ? "bos" : "eos") + "_token_id is given");
        }
        return new int[] {id};
    }

    private static Map<String, Integer> specials(Map<String, Object> md, Map<String, Integer> defaults) {
        Map<String, Integer> sp = new HashMap<>(defaults);
        String[][] keys = {{"bos", "bos_token_id"}, {"eos", "eos_token_id"}, {"unk", "unknown_token_id"},
                {"pad", "padding_token_id"}, {"sep", "seperator_token_id"}, {"sep", "separator_token_id"},
                {"cls", "cls_token_id"}, {"mask", "mask_token_id"}, {"eot", "eot_token_id"}, {"eom", "eom_token_id"}};
        for (String[] k : keys) {
            Object o = md.get(P + k[1]);
            if (o instanceof Number num) {
                long id = num.longValue();
                if (id >= 0 && id <= Integer.MAX_VALUE) {
                    sp.put(k[0], (int) id);
                }
            }
        }
        return sp;
    }

    // ---- tolerant metadata accessors (lists or Java arrays) ----

    private static String string(Map<String, Object> md, String key, String dflt) {
        return scalar(md, key, dflt, "a string", o -> o instanceof String s ? s : null);
    }

    private static boolean bool(Map<String, Object> md, String key, boolean dflt) {
        return scalar(md, key, dflt, "a bool",
                o -> o instanceof Boolean b ? b : o instanceof Number n ? Boolean.valueOf(n.intValue() != 0) : null);
    }

    // The value of key as {@code convert} reads it (null: not that type), or dflt when absent.
    private static <T> T scalar(Map<String, Object> md, String key, T dflt, String what, Function<Object, T> convert) {
        Object o = md.get(key);
        if (o == null) {
            return dflt;
        }
        T v = convert.apply(o);
        if (v == null) {
            throw new IllegalArgumentException("GGUF metadata: " + key + " should be " + what + ", found "
                    + o.getClass().getSimpleName());
        }
        return v;
    }

    private static List<?> list(Map<String, Object> md, String key) {
        Object o = md.get(key);
        if (o == null) {
            throw new IllegalArgumentException("GGUF metadata: missing " + key);
        }
        if (o instanceof List<?> l) {
            return l;
        }
        if (o.getClass().isArray()) {
            int n = Array.getLength(o);
            List<Object> l = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                l.add(Array.get(o, i));
            }
            return l;
        }
        throw new IllegalArgumentException("GGUF metadata: " + key + " should be an array, found " + o.getClass().getSimpleName());
    }

    private static String[] strings(Map<String, Object> md, String key) {
        return md.get(key) instanceof String[] a ? a
                : elements(md, key, String.class, "a string").toArray(String[]::new);
    }

    private static int[] ints(Map<String, Object> md, String key) {
        return md.get(key) instanceof int[] a ? a
                : elements(md, key, Number.class, "a number").stream().mapToInt(Number::intValue).toArray();
    }

    private static float[] floats(Map<String, Object> md, String key) {
        if (md.get(key) instanceof float[] a) {
            return a;
        }
        List<Number> l = elements(md, key, Number.class, "a number");
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = l.get(i).floatValue();
        }
        return out;
    }

    // The elements of array key, each checked to be a `type` ("GGUF metadata: key[i] should be <what>" if not).
    private static <T> List<T> elements(Map<String, Object> md, String key, Class<T> type, String what) {
        List<?> l = list(md, key);
        List<T> out = new ArrayList<>(l.size());
        for (int i = 0; i < l.size(); i++) {
            if (!type.isInstance(l.get(i))) {
                throw new IllegalArgumentException("GGUF metadata: " + key + "[" + i + "] should be " + what);
            }
            out.add(type.cast(l.get(i)));
        }
        return out;
    }
}
