package dev.interlayer.models.tokenizer;

/**
 * Kind of a vocabulary entry, with GGUF's {@code tokenizer.ggml.token_type} numbering (the ordinal is
 * the stored value). CONTROL and USER_DEFINED tokens are matched as whole strings in the input before
 * the model's own splitting; BYTE tokens ({@code <0xNN>}) stand for one raw byte.
 */
public enum TokenType {
    /** 0: no type stored. */
    UNDEFINED,
    /** 1: an ordinary piece, found by the model's own splitting. */
    NORMAL,
    /** 2: the unknown-token placeholder. */
    UNKNOWN,
    /** 3: a control token such as BOS/EOS, matched as a whole string. */
    CONTROL,
    /** 4: an added token, matched as a whole string. */
    USER_DEFINED,
    /** 5: a reserved, unused entry. */
    UNUSED,
    /** 6: a byte-fallback token {@code <0xNN>}. */
    BYTE;

    /** The type stored as {@code value} in GGUF; unknown values map to NORMAL as llama.cpp does not reject them either. */
    public static TokenType fromGguf(int value) {
        TokenType[] all = values();
        return value >= 0 && value < all.length ? all[value] : NORMAL;
    }
}
