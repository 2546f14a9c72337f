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
    static final String GPT2_RE =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    private static final String LLAMA3_RE = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2_RE = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String CJK_RE = "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+";

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
            "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-"
                    + "\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}"
                    + "\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}"
                    + "\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-"
                    + "\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}"
                    + "\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-"
                    + "\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-"
                    + "\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-"
                    + "\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}"
                    + "\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}"
                    + "\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-"
                    + "\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-"
                    + "\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}"
                    + "\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-"
                    + "\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}"
                    + "\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}"
                    + "\\x{1E900}-\\x{1E943}]+",
            "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
            "\\s+\\z",
            CJK_RE,
            "\\p{N}+");

    private final String name;
    private final Pattern[] patterns;

    PreTokenizerRegex(String name, String... regexes) {
        this.name = name;
        this.patterns = new Pattern[regexes.length];
        for (int i = 0; i < regexes.length; i++) {
            try {
                patterns[i] = Pattern.compile(regexes[i], Pattern.UNICODE_CHARACTER_CLASS);
            } catch (java.util.regex.PatternSyntaxException e) {
                throw new IllegalArgumentException("pre-tokenizer '" + name + "': regex " + i
                        + " does not compile with java.util.regex: " + e.getDescription(), e);
            }
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
