package dev.interlayer.models.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into words before byte-level BPE with a sequence of regular expressions: each pattern
 * is applied to every piece produced so far, and both its matches and the text between matches
 * become pieces (Hugging Face's {@code Split} with behaviour {@code Isolated}). One instance per model
 * family, keyed by GGUF {@code tokenizer.ggml.pre}; the expressions are those the families' Hugging
 * Face tokenizers use (as listed per pre-type in llama.cpp), written for java.util.regex with Unicode
 * classes ({@code \s} = White_Space).
 */
final class PreTokenizerRegex {
    private static final String GPT2_RE =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    private static final String LLAMA3_RE = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2_RE = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String CJK_RE = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+";

    static final PreTokenizerRegex GPT2 = new PreTokenizerRegex("gpt-2", GPT2_RE);
    static final PreTokenizerRegex LLAMA3 = new PreTokenizerRegex("llama3", LLAMA3_RE);
    static final PreTokenizerRegex QWEN2 = new PreTokenizerRegex("qwen2", QWEN2_RE);
    static final PreTokenizerRegex STARCODER = new PreTokenizerRegex("starcoder", "\\p{N}", GPT2_RE);
    static final PreTokenizerRegex FALCON = new PreTokenizerRegex("falcon",
            "[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2_RE, "[0-9][0-9][0-9]");
    static final PreTokenizerRegex DEEPSEEK_CODER = new PreTokenizerRegex("deepseek-coder",
            "[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CJK_RE, "\\p{N}");
    static final PreTokenizerRegex DEEPSEEK_LLM = new PreTokenizerRegex("deepseek-llm",
            "[\\r\\n]",
            "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼι"
                    + "ῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ"
                    + "\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}"
                    + "\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
            "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
            "\\s+\\z",
            CJK_RE,
            "\\p{N}+");

    private final String name;
    private final Pattern[] patterns;

    PreTokenizerRegex(String name, String... regexes) {
        this.name = name;
        this.patterns = new Pattern[regexes.length];
        for (int i = 0; i < regexes.length; i++) {
            patterns[i] = Pattern.compile(regexes[i], Pattern.UNICODE_CHARACTER_CLASS);
        }
    }

    /**
     * The pre-tokenizer for GGUF {@code tokenizer.ggml.pre} {@code pre} (null or "default": GPT-2's).
     *
     * @throws IllegalArgumentException for a pre-type we have no expression for
     */
    static PreTokenizerRegex forGgufPre(String pre) {
        if (pre == null) {
            return GPT2;
        }
        return switch (pre.toLowerCase(Locale.ROOT)) {
            case "default", "gpt-2", "gpt2", "mpt", "olmo", "jais" -> GPT2;
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral", "dbrx", "smaug-bpe" -> LLAMA3;
            case "qwen2", "stablelm2", "deepseek-r1-qwen", "hunyuan", "megrez" -> QWEN2;
            case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b" -> STARCODER;
            case "falcon" -> FALCON;
            case "deepseek-coder" -> DEEPSEEK_CODER;
            case "deepseek-llm" -> DEEPSEEK_LLM;
            default -> throw new IllegalArgumentException("tokenizer.ggml.pre: no pre-tokenizer for '" + pre
                    + "' (supported: default, gpt-2, mpt, olmo, jais, llama-bpe, qwen2, starcoder, refact, command-r,"
                    + " smollm, falcon, deepseek-coder, deepseek-llm, ...)");
        };
    }

    /** Pieces of {@code text}, in order, concatenating back to {@code text}; no piece is empty. */
    List<String> split(String text) {
        List<String> pieces = new ArrayList<>();
        pieces.add(text);
        for (Pattern p : patterns) {
            List<String> next = new ArrayList<>(pieces.size() * 2);
            for (String piece : pieces) {
                Matcher m = p.matcher(piece);
                int last = 0;
                while (m.find()) {
                    if (m.end() == m.start()) {
                        continue;   // empty match: nothing to isolate
                    }
                    if (m.start() > last) {
                        next.add(piece.substring(last, m.start()));
                    }
                    next.add(piece.substring(m.start(), m.end()));
                    last = m.end();
                }
                if (last < piece.length()) {
                    next.add(piece.substring(last));
                }
            }
            pieces = next;
        }
        return pieces;
    }

    @Override
    public String toString() {
        return "PreTokenizerRegex[" + name + "]";
    }
}
