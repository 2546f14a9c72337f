package dev.interlayer.models.tokenizer;

/**
 * Kind of a vocabulary entry, with GGUF's {@code tokenizer.ggml.token_type} numbering (the ordinal is
 * the stored value). CONTROL and USER_DEFINED tokens are matched as whole strings in the input before
 * the model's own splitting; BYTE tokens ({@code <0xNN>}) stand for one raw byte.
 */
public enum TokenType {
    UNDEFINED, NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

    /** The type stored as {@code value} in GGUF; unknown values map to NORMAL as llama.cpp does not reject them either. */
    public static TokenType fromGguf(int value) {
        TokenType[] all = values();
        return value >= 0 && value < all.length ? all[value] : NORMAL;
    }
}
