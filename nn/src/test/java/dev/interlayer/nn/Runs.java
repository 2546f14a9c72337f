package dev.interlayer.nn;

import dev.interlayer.tensor.Tensor;
import dev.interlayer.tensor.testing.Diffs;

/** Runs layers over a sequence in chunks against a fresh KV cache; the test-side driver. */
public final class Runs {
    private Runs() {
    }

    /**
     * Bound for two evaluations of the same float32 math that may round differently: the Vector API's
     * interpreted fallback and its C2 intrinsics sum reductions in different orders and compute exp
     * (silu, softmax) with different last-bit rounding, and another row count changes GEMM blocking. So
     * two runs of one layer can differ by a few ulp depending on when the JIT compiles (a MoE-vs-dense run
     * once differed by 8.9e-8). Outputs here are O(1) sums of a few dozen terms: 1e-5 is ~100 ulp, while
     * every property these tests check (a causality leak, a wrong window, a stale cache row) moves outputs
     * by 1e-2 or more.
     */
    public static final double ROUNDING_TOL = 1e-5;

    /** Output [T, d] of attention over x processed in chunks of the given sizes (null = one chunk). */
    public static float[] attention(Attention a, Tensor x, int[] chunks, boolean[] keyValid) {
        return attention(a, x, chunks, keyValid, null);
    }

    /**
     * Output [T, d] of attention over x in chunks (null = one chunk) with token i at positions[i] (null =
     * implicit positions), against a fresh full-length cache.
     */
    public static float[] attention(Attention a, Tensor x, int[] chunks, boolean[] keyValid, int[] positions) {
        KvCache cache = new KvCache(a.config().contextLength(), a.config().kvDim());
        return attention(a, x, chunks, keyValid, positions, cache);
    }

    /** As above against the given (empty) cache, layer 0. */
    public static float[] attention(Attention a, Tensor x, int[] chunks, boolean[] keyValid, int[] positions,
                                    KvCache cache) {
        int t = x.dim(0), d = x.dim(1);
        int maxChunk = 0;
        for (int c : chunks == null ? new int[] {t} : chunks) {
            maxChunk = Math.max(maxChunk, c);
        }
        Attention.State st = a.newState(cache, 0, maxChunk);
        st.setKeyMask(keyValid);
        return chunked(chunks == null ? new int[] {t} : chunks, d, (past, c) -> {
            Tensor y = Tensor.zeros(c, d);
            int[] pos = positions == null ? null : java.util.Arrays.copyOfRange(positions, past, past + c);
            a.forward(x.slice(0, past, past + c), y, st, pos);
            cache.advance(c);
            return y;
        });
    }

    /** Output [T, d] of one block over x processed in chunks (null = one chunk). */
    public static float[] block(TransformerBlock b, Tensor x, int[] chunks) {
        int t = x.dim(0), d = x.dim(1);
        KvCache cache = new KvCache(b.config().attention().contextLength(), b.config().attention().kvDim());
        TransformerBlock.State st = b.newState(cache, 0, t);
        return chunked(chunks == null ? new int[] {t} : chunks, d, (past, c) -> {
            Tensor y = x.slice(0, past, past + c).copy();
            b.forward(y, st);
            cache.advance(c);
            return y;
        });
    }

    /** One call of a chunked run: the output rows [c, d] of the c tokens after the first {@code past}. */
    @FunctionalInterface
    public interface Chunk {
        Tensor run(int past, int c);
    }

    /**
     * Outputs [T, d] (T = Σ chunks) of a layer or model fed a sequence in chunks of the given sizes, in order: each
     * call's output rows are copied to rows [past, past + c).
     */
    public static float[] chunked(int[] chunks, int d, Chunk step) {
        int t = 0;
        for (int c : chunks) {
            t += c;
        }
        float[] out = new float[t * d];
        int past = 0;
        for (int c : chunks) {
            System.arraycopy(step.run(past, c).toFloatArray(), 0, out, past * d, c * d);
            past += c;
        }
        return out;
    }

    /** Chunk sizes covering t tokens in chunks of {@code size} (the last one shorter). */
    public static int[] chunks(int t, int size) {
        int[] out = new int[(t + size - 1) / size];
        java.util.Arrays.fill(out, size);
        out[out.length - 1] = t - size * (out.length - 1);
        return out;
    }

    /**
     * Outputs [T, d] of a decoder stack over tokens in chunks (each ≤ session maxTokens) with explicit positions
     * (null = implicit).
     */
    public static float[] stack(DecoderStack stack, StackSession s, int[] tokens, int[] chunks, int[] positions) {
        int d = stack.blocks().get(0).config().hidden();
        return chunked(chunks, d, (past, c) -> {
            int[] tok = java.util.Arrays.copyOfRange(tokens, past, past + c);
            int[] pos = positions == null ? null : java.util.Arrays.copyOfRange(positions, past, past + c);
            return c == 1 && pos != null ? stack.decode(tok[0], pos[0], s)
                    : c == 1 ? stack.decode(tok[0], s) : stack.forward(tok, pos, s);
        });
    }

    /** Chunk schedules every golden case is run with: one prefill, token by token, and prefill-then-decode. */
    public static int[][] schedules(int t) {
        int[] ones = new int[t];
        java.util.Arrays.fill(ones, 1);
        int[] mixed = new int[t - 2];
        mixed[0] = 3;
        java.util.Arrays.fill(mixed, 1, mixed.length, 1);
        return new int[][] {{t}, ones, mixed};
    }

    /** Human-readable schedule name. */
    public static String name(int[] schedule, int t) {
        return schedule.length == 1 ? "prefill" : schedule.length == t ? "decode" : "prefill3+decode";
    }

    /** max |a − b| ({@link Diffs#maxAbs(float[], double[])}). */
    public static double maxAbs(float[] a, double[] b) {
        return Diffs.maxAbs(a, b);
    }

    /** max |a − b| over floats. */
    public static double maxAbs(float[] a, float[] b) {
        return Diffs.maxAbs(a, b);
    }
}
