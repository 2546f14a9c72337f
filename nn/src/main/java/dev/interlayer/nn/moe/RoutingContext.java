package dev.interlayer.nn.moe;

import dev.interlayer.nn.RowBuffer;
import java.util.Arrays;

/**
 * What the MoE layers of one model share during one forward call: the input token ids (hash routing
 * routes by them), the number of tokens already processed in this session (non-causal routers are only
 * defined when it is 0), the recurrent router state r [T, h] passed from one MoE layer to the next
 * (Layerwise Recurrent Router), and the previous MoE layer's top-1 expert per token (routing-stability
 * statistic). Call {@link #begin} once per model forward before the first layer.
 *
 * <p>Preallocated for a session; mutable; one thread owns it.
 */
public final class RoutingContext {
    private final int maxTokens;
    private final int[] tokenIds;     // [maxTokens]
    private final int[] previousTop1; // [maxTokens], valid when hasPrevious
    private RowBuffer recurrent;      // [maxTokens, width], allocated on first use
    private int tokens;
    private int past;
    private boolean hasIds;
    private boolean hasPrevious;
    private boolean hasRecurrent;

    /** A context for calls of up to {@code maxTokens} tokens. */
    public RoutingContext(int maxTokens) {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
        }
        this.maxTokens = maxTokens;
        this.tokenIds = new int[maxTokens];
        this.previousTop1 = new int[maxTokens];
    }

    /**
     * Starts a model forward of {@code tokens} tokens following {@code past} earlier tokens of the same
     * sequence; {@code ids} are their input token ids, or null when unknown (hash routing then fails).
     *
     * @throws IllegalArgumentException if tokens is out of range, past is negative or ids is too short
     */
    public void begin(int[] ids, int tokens, int past) {
        if (tokens < 1 || tokens > maxTokens) {
            throw new IllegalArgumentException("routing context holds 1.." + maxTokens + " tokens (the session's "
                    + "maxTokens), got " + tokens);
        }
        if (past < 0) {
            throw new IllegalArgumentException("past must be >= 0, got " + past);
        }
        if (ids != null && ids.length < tokens) {
            throw new IllegalArgumentException(tokens + " tokens but " + ids.length + " token ids");
        }
        this.tokens = tokens;
        this.past = past;
        this.hasIds = ids != null;
        if (hasIds) {
            System.arraycopy(ids, 0, tokenIds, 0, tokens);
        }
        hasPrevious = false;
        hasRecurrent = false;
    }

    /** Tokens of the current call (0 before the first {@link #begin}). */
    public int tokens() {
        return tokens;
    }

    /** Tokens of the same sequence processed before this call. */
    public int past() {
        return past;
    }

    /**
     * Input token id of token i of this call.
     *
     * @throws IllegalStateException if {@link #begin} was not given ids
     */
    public int tokenId(int i) {
        if (!hasIds) {
            throw new IllegalStateException("hash routing needs the input token ids: call RoutingContext.begin(ids, "
                    + "tokens, past) before the forward pass");
        }
        return tokenIds[i];
    }

    /**
     * The recurrent router state [tokens, width] (row-major) for reading and writing, and whether it holds a
     * previous layer's state: before the first recurrent layer of a call it is all zeros.
     */
    RowBuffer recurrentState(int width) {
        if (recurrent == null || recurrent.cols() != width) {
            if (recurrent != null && hasRecurrent) {
                throw new IllegalStateException("recurrent routers of one model must share the state width: "
                        + recurrent.cols() + " vs " + width);
            }
            recurrent = new RowBuffer(maxTokens, width); // first call of the session only
        }
        if (!hasRecurrent) {
            Arrays.fill(recurrent.data(), 0, tokens * width, 0f);
        }
        return recurrent;
    }

    void recurrentWritten() {
        hasRecurrent = true;
    }

    /** Records this layer's top-1 experts [tokens]; returns how many equal the previous MoE layer's, or -1 if none. */
    int updateTop1(int[] top1) {
        int same = -1;
        if (hasPrevious) {
            same = 0;
            for (int i = 0; i < tokens; i++) {
                if (top1[i] == previousTop1[i]) {
                    same++;
                }
            }
        }
        System.arraycopy(top1, 0, previousTop1, 0, tokens);
        hasPrevious = true;
        return same;
    }
}
