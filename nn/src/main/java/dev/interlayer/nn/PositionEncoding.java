package dev.interlayer.nn;

/** How an attention layer sees positions. Learned absolute positions are added to the input by the stack. */
public enum PositionEncoding {
    /** No positional term inside attention (learned absolute positions, or none). */
    NONE,
    /** Rotary embedding on q and k ({@link RopeConfig}). */
    ROPE,
    /** Linear distance bias on the scores ({@link Alibi}). */
    ALIBI
}
