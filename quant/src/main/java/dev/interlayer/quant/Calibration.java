package dev.interlayer.quant;

import dev.interlayer.nn.DecoderStack;
import dev.interlayer.nn.EncoderStack;
import dev.interlayer.nn.PackedBatch;
import dev.interlayer.nn.StackSession;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.util.List;

/**
 * Runs calibration data through a whole stack once with a {@link CalibrationTap} installed, so every linear's
 * input rows reach a {@link CalibrationSink} (typically {@link CalibrationStats}: GPTQ's H = 2XᵀX/N per input,
 * in float64). This is GPTQ's "one forward, all linears of the block at once" variant with the unquantized
 * model feeding every block (Frantar et al., "GPTQ", ICLR 2023); the block-by-block variant that feeds
 * quantized outputs forward is not this class.
 */
public final class Calibration {
    private static final int PACKED_ROWS = 1024;

    private Calibration() {
    }

    /**
     * Decoder: tokens in non-overlapping windows of {@code window} tokens, each with a fresh context (as the
     * perplexity protocol evaluates), run in chunks of at most {@code chunk} tokens; a shorter tail window
     * is included. Returns the number of token rows fed.
     *
     * @throws IllegalArgumentException if window or chunk is below 1, window exceeds the stack's context, or
     *                                  a token is outside the vocabulary
     */
    public static long decoder(DecoderStack stack, int[] tokens, int window, int chunk, CalibrationSink sink) {
        checkWindow("Calibration.decoder", stack, window, chunk);
        StackSession s = stack.newSession(window, Math.min(chunk, window), false)
                .linearTap(new CalibrationTap(sink));
        for (int w = 0; w < tokens.length; w += window) {
            s.cache().reset();
            int end = Math.min(tokens.length, w + window);
            for (int c = w; c < end; c += s.maxTokens()) {
                stack.forward(tokens, c, Math.min(s.maxTokens(), end - c), s);
            }
        }
        return tokens.length;
    }

    /**
     * Decoder: the residual stream entering block 0 (x₀: embedding, its scale, learned positions and embedding norm,
     * whichever the stack has) for every token, windows and chunks as {@link #decoder} runs them. Only block 0 is run
     * (its output is discarded). Returns x₀ [N, d] row-major, a new array.
     *
     * @throws IllegalArgumentException as {@link #decoder}, or if the stack has no token embedding
     */
    public static float[] decoderInput(DecoderStack stack, int[] tokens, int window, int chunk) {
        checkWindow("Calibration.decoderInput", stack, window, chunk);
        if (stack.embedding() == null) {
            throw new IllegalArgumentException("Calibration.decoderInput: the stack has no token embedding");
        }
        DecoderStack first = new DecoderStack(stack.embedding(), stack.positions(), stack.embeddingNorm(),
                List.of(stack.blocks().get(0)), null);
        int d = stack.blocks().get(0).config().hidden();
        float[] out = new float[Math.multiplyExact(tokens.length, d)];
        Tensor x = Tensor.wrap(out, Shape.of(tokens.length, d));
        StackSession s = first.newSession(window, Math.min(chunk, window), true);
        for (int w = 0; w < tokens.length; w += window) {
            s.cache().reset();
            int end = Math.min(tokens.length, w + window);
            for (int c = w; c < end; c += s.maxTokens()) {
                int len = Math.min(s.maxTokens(), end - c);
                first.forward(tokens, c, len, s);
                x.slice(0, c, c + len).copyFrom(s.tap(0));
            }
        }
        return out;
    }

    /**
     * Decoder, GPTQ's block-at-a-time protocol: runs cached hidden states {@code x [N, d]} (the calibration stream's
     * rows in order, windows of {@code window} rows each on a fresh cache, chunks of at most {@code chunk}) through
     * {@code blocks}, a stack of blocks only, sending every linear's input rows to {@code sink} (null: none). With
     * {@code update} the output rows overwrite x (each chunk is copied into the session before its rows are
     * written, so in place is safe): x then holds the input of the next block. Only x is kept whole; the model's
     * other blocks need not be in memory.
     *
     * @throws IllegalArgumentException if the stack has an embedding stage or a final norm, or x is not [N, d]
     */
    public static void decoderBlocks(DecoderStack blocks, float[] x, int window, int chunk, CalibrationSink sink,
                                     boolean update) {
        checkWindow("Calibration.decoderBlocks", blocks, window, chunk);
        if (blocks.embedding() != null || blocks.positions() != null || blocks.embeddingNorm() != null
                || blocks.finalNorm() != null) {
            throw new IllegalArgumentException("Calibration.decoderBlocks: expects a stack of blocks only");
        }
        int d = blocks.blocks().get(0).config().hidden();
        if (x.length % d != 0) {
            throw new IllegalArgumentException("Calibration.decoderBlocks: x has " + x.length
                    + " values, not a multiple of the hidden size " + d);
        }
        int n = x.length / d;
        Tensor xs = Tensor.wrap(x, Shape.of(n, d));
        StackSession s = blocks.newSession(window, Math.min(chunk, window), false);
        if (sink != null) {
            s.linearTap(new CalibrationTap(sink));
        }
        for (int w = 0; w < n; w += window) {
            s.cache().reset();
            int end = Math.min(n, w + window);
            for (int c = w; c < end; c += s.maxTokens()) {
                int len = Math.min(s.maxTokens(), end - c);
                Tensor y = blocks.forwardEmbeddings(xs.slice(0, c, c + len), s);
                if (update) {
                    xs.slice(0, c, c + len).copyFrom(y);
                }
            }
        }
    }

    private static void checkWindow(String who, DecoderStack stack, int window, int chunk) {
        if (window < 1 || chunk < 1 || window > stack.contextLength()) {
            throw new IllegalArgumentException(who + ": window " + window + " and chunk " + chunk
                    + " must be >= 1 and window <= context length " + stack.contextLength());
        }
    }

    /**
     * Encoder: each sequence alone (token type 0, no padding). Returns the number of token rows fed.
     *
     * @throws IllegalArgumentException if a sequence is empty, longer than the stack's context, or has a
     *                                  token outside the vocabulary
     */
    public static long encoder(EncoderStack stack, List<int[]> sequences, CalibrationSink sink) {
        long rows = 0;
        for (int[] seq : sequences) {
            encoder(stack, seq, null, sink);
            rows += seq.length;
        }
        return rows;
    }

    /**
     * Encoder: one padded sequence; rows with {@code valid[t] == false} are attended by nobody and excluded
     * from the statistics.
     *
     * @param valid [T] true = real token, or null for none padded
     * @throws IllegalArgumentException if the sequence is empty or too long, or valid has the wrong length
     */
    public static void encoder(EncoderStack stack, int[] tokens, boolean[] valid, CalibrationSink sink) {
        if (tokens.length == 0 || tokens.length > stack.contextLength()) {
            throw new IllegalArgumentException("Calibration.encoder: sequence of " + tokens.length
                    + " tokens; need 1.." + stack.contextLength());
        }
        if (stack.embedding() == null) {
            throw new IllegalArgumentException("Calibration.encoder: the stack has no token embedding");
        }
        CalibrationTap tap = new CalibrationTap(sink);
        tap.keep(valid);
        StackSession s = stack.newSession(tokens.length, false).linearTap(tap);
        // the stack adds positions and the embedding norm (as its packed encode does)
        stack.forwardEmbeddings(typed(stack, tokens), valid, s);
    }

    /**
     * The input of an encoder's first block for one sequence (token type 0):
     * x₀ = N_e(E[token] + P[t] + S[0]), each term when the stack has it. Shape [T, d], a new tensor.
     *
     * @throws IllegalArgumentException if the sequence is empty or too long, or the stack has no token embedding
     */
    public static Tensor encoderInput(EncoderStack stack, int[] tokens) {
        if (tokens.length == 0 || tokens.length > stack.contextLength() || stack.embedding() == null) {
            throw new IllegalArgumentException("Calibration.encoderInput: sequence of " + tokens.length
                    + " tokens; need 1.." + stack.contextLength() + " and a stack with a token embedding");
        }
        Tensor x0 = typed(stack, tokens);
        if (stack.positions() != null) {
            stack.positions().addTo(x0, 0);
        }
        if (stack.embeddingNorm() != null) {
            stack.embeddingNorm().apply(x0, x0);
        }
        return x0;
    }

    /**
     * Runs hidden states x [T, d] of one sequence (no padding) through {@code blocks}, a stack of blocks only (no
     * embedding, positions or norms: the GPTQ protocol's one block on the cached outputs of the blocks before it),
     * with every linear's input rows sent to {@code sink} (null: none). Returns the output [T, d], a new tensor.
     *
     * @throws IllegalArgumentException if the stack has an embedding stage or a final norm, or x does not fit
     */
    public static Tensor encoderBlocks(EncoderStack blocks, Tensor x, CalibrationSink sink) {
        if (blocks.embedding() != null || blocks.positions() != null || blocks.embeddingNorm() != null
                || blocks.finalNorm() != null || blocks.tokenTypes() != null) {
            throw new IllegalArgumentException("Calibration.encoderBlocks: expects a stack of blocks only");
        }
        if (x.rank() != 2 || x.dim(1) != blocks.hidden() || x.dim(0) < 1 || x.dim(0) > blocks.contextLength()) {
            throw new IllegalArgumentException("Calibration.encoderBlocks: x " + x.shape() + "; need [1.."
                    + blocks.contextLength() + ", " + blocks.hidden() + "]");
        }
        StackSession s = blocks.newSession(x.dim(0), false);
        if (sink != null) {
            s.linearTap(new CalibrationTap(sink));
        }
        return Tensor.wrap(blocks.forwardEmbeddings(x, null, s).toFloatArray(), x.shape());
    }

    /**
     * Runs the hidden states of many sequences ({@code xs}, each [T_b, d], no padding) through {@code blocks}, a
     * stack of blocks only, without taps: packed back to back in batches of about {@value #PACKED_ROWS} rows
     * ({@link EncoderStack#encodeEmbeddings}, attention within each sequence), so the linears run as large
     * products instead of one short sequence at a time. Returns the outputs in order, new tensors; they equal
     * {@link #encoderBlocks(EncoderStack, Tensor, CalibrationSink)}'s up to float32 rounding order.
     *
     * @throws IllegalArgumentException as {@link #encoderBlocks(EncoderStack, Tensor, CalibrationSink)}
     */
    public static List<Tensor> encoderBlocks(EncoderStack blocks, List<Tensor> xs) {
        int d = blocks.hidden();
        List<Tensor> out = new java.util.ArrayList<>(xs.size());
        for (int b0 = 0; b0 < xs.size(); ) {
            int b1 = b0, rows = 0;
            while (b1 < xs.size() && (b1 == b0 || rows + xs.get(b1).dim(0) <= PACKED_ROWS)) {
                Tensor x = xs.get(b1++);
                if (x.rank() != 2 || x.dim(1) != d || x.dim(0) < 1 || x.dim(0) > blocks.contextLength()) {
                    throw new IllegalArgumentException("Calibration.encoderBlocks: sequence " + (b1 - 1) + " is "
                            + x.shape() + "; need [1.." + blocks.contextLength() + ", " + d + "]");
                }
                rows += x.dim(0);
            }
            int[] lengths = new int[b1 - b0];
            float[] packed = new float[rows * d];
            for (int b = b0, r = 0; b < b1; b++) {
                float[] x = xs.get(b).toFloatArray();
                System.arraycopy(x, 0, packed, r * d, x.length);
                lengths[b - b0] = xs.get(b).dim(0);
                r += lengths[b - b0];
            }
            float[] y = blocks.encodeEmbeddings(PackedBatch.ofLengths(lengths),
                    Tensor.wrap(packed, Shape.of(rows, d)), null).toFloatArray();
            for (int b = b0, r = 0; b < b1; b++) {
                int t = lengths[b - b0];
                out.add(Tensor.wrap(java.util.Arrays.copyOfRange(y, r * d, (r + t) * d), Shape.of(t, d)));
                r += t;
            }
            b0 = b1;
        }
        return out;
    }

    // x₀ = E[token] + S[0], a new [T, d] tensor
    private static Tensor typed(EncoderStack stack, int[] tokens) {
        Tensor x0 = stack.embedding().lookup(tokens, Tensor.zeros(tokens.length, stack.hidden()));
        if (stack.tokenTypes() != null) {
            Tensor type0 = stack.tokenTypes().table().select(0, 0);
            Tensor row = Tensor.zeros(stack.hidden());
            Ops.scale(type0, stack.tokenTypes().scale(), row);
            Ops.add(x0, row, x0);
        }
        return x0;
    }
}
