package dev.interlayer.nn.plan;

import dev.interlayer.nn.KvCache;
import dev.interlayer.nn.KvType;
import dev.interlayer.nn.RowBuffer;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.Tensor;
import java.util.Arrays;

/**
 * Greedy self-speculative decoding ("LayerSkip: Enabling Early Exit Inference and Self-Speculative Decoding",
 * Elhoushi et al.): the first E steps of a plan, read out through the shared final norm and head, draft up to n
 * tokens; the remaining steps verify them in one batched call that reuses the draft's hidden states x_E and the
 * early steps' KV entries; rejected entries are rolled back.
 *
 * <p>Round (all caches hold the accepted tokens except the newest one, a, which no step has seen):
 * <pre>
 *   draft:   for k = 1..n: run steps [0, E) on the previous token (a, then d_{k−1}); keep x_E;
 *            d_k = argmax Head(N_f(x_E))            (stop early at EOS)
 *   verify:  steps [0, E) on d_n only; steps [E, L) on the stored x_E of [a, d_1, …, d_n]
 *            p_k = Head(N_f(x_L)) at a, d_1, …, d_n
 *   accept:  m = longest prefix with d_k = argmax p_{k−1}; emit d_1..d_m and the bonus argmax p_m;
 *            truncate every cache to the accepted tokens (the bonus becomes the next a)
 * </pre>
 * Invariant: the output equals full-model greedy decoding token for token, for every E and n; the number of
 * late-step calls equals the number of rounds.
 *
 * <p>Sampling (temperature T &gt; 0, speculative sampling of Leviathan et al. / Chen et al. as in the LayerSkip
 * reference): q_k = softmax(draft logits / T), p_k = softmax(verify logits / T); accept d_k with probability
 * min(1, p_{k−1}(d_k) / q_k(d_k)); at the first rejection emit a sample of normalize(max(p_{k−1} − q_k, 0)) and
 * stop; if all are accepted emit a sample of p_n. The emitted tokens then follow the full model's sampling
 * distribution. (Top-k/top-p filtering is not implemented.)
 *
 * <p>Not thread-safe: one decoder per thread (it owns its session).
 */
public final class SelfSpeculativeDecoder {
    private final PlannedStack stack;
    private final OutputHead head;
    private final int draftSteps;
    private final int speculations;
    private final PlanSession session;
    private final RowBuffer exits;   // [n + 1, d] x_E of the tokens the late steps have not seen
    private final RowBuffer logits;  // [n + 1, V]
    private final double temperature; // 0 = greedy
    private final java.util.SplittableRandom rng;
    private final double[][] q;       // [n][V] draft distributions of the round (sampling only)
    private final double[] p;         // [V] verifier distribution (sampling only)

    /** Statistics of one {@link #generate} call. */
    public record Result(int[] tokens, int rounds, int drafted, int accepted, long nanos) {
        /** Fraction of drafted tokens accepted (1 when nothing was drafted). */
        public double acceptanceRate() {
            return drafted == 0 ? 1.0 : (double) accepted / drafted;
        }

        /** Emitted tokens per second of the generate call (prefill included). */
        public double tokensPerSecond() {
            return nanos == 0 ? 0 : tokens.length * 1e9 / nanos;
        }
    }

    /**
     * @param stack         the full model as a plan (identity for the plain model)
     * @param head          the shared LM head
     * @param draftSteps    E: steps [0, E) draft; 1 ≤ E ≤ plan size (E = size drafts with the full model)
     * @param speculations  n ≥ 1 draft tokens per round
     * @param contextLength session context length
     * @param prefillChunk  largest prompt chunk per call
     * @throws IllegalArgumentException if E or n is out of range or E cuts a parallel group
     */
    public SelfSpeculativeDecoder(PlannedStack stack, OutputHead head, int draftSteps, int speculations,
                                  int contextLength, int prefillChunk) {
        this(stack, head, draftSteps, speculations, contextLength, prefillChunk, 0, 0);
    }

    /**
     * A sampling decoder (temperature &gt; 0) with a seeded random source; temperature 0 is greedy.
     *
     * @throws IllegalArgumentException also if temperature is negative or not finite
     */
    public SelfSpeculativeDecoder(PlannedStack stack, OutputHead head, int draftSteps, int speculations,
                                  int contextLength, int prefillChunk, double temperature, long seed) {
        this(stack, head, draftSteps, speculations, contextLength, prefillChunk, temperature, seed, KvType.F32);
    }

    /**
     * As above, with the session's KV caches stored in {@code kvType}: rejected drafts roll back by
     * {@link KvCache#truncate}, which only moves lengths, so every type rolls back alike.
     *
     * @throws IllegalArgumentException also if kvType is Q8_0 and a head dimension is not a multiple of 32
     */
    public SelfSpeculativeDecoder(PlannedStack stack, OutputHead head, int draftSteps, int speculations,
                                  int contextLength, int prefillChunk, double temperature, long seed, KvType kvType) {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and >= 0, got " + temperature);
        }
        int steps = stack.plan().size();
        if (draftSteps < 1 || draftSteps > steps) {
            throw new IllegalArgumentException("draft depth E = " + draftSteps + " outside [1, " + steps + "]");
        }
        if (speculations < 1) {
            throw new IllegalArgumentException("speculations must be >= 1, got " + speculations);
        }
        if (head.head().in() != stack.hidden()) {
            throw new IllegalArgumentException("head width " + head.head().in() + " != hidden " + stack.hidden());
        }
        if (draftSteps < steps && stack.plan().step(draftSteps).parallel()
                && stack.plan().step(draftSteps - 1).group() == stack.plan().step(draftSteps).group()) {
            throw new IllegalArgumentException("draft depth E = " + draftSteps + " cuts a parallel group");
        }
        this.stack = stack;
        this.head = head;
        this.draftSteps = draftSteps;
        this.speculations = speculations;
        this.session = stack.newSession(contextLength, Math.max(prefillChunk, speculations + 1), kvType);
        this.exits = new RowBuffer(speculations + 1, stack.hidden());
        this.logits = new RowBuffer(speculations + 1, head.vocab());
        this.temperature = temperature;
        this.rng = new java.util.SplittableRandom(seed);
        this.q = temperature > 0 ? new double[speculations][head.vocab()] : null;
        this.p = temperature > 0 ? new double[head.vocab()] : null;
    }

    /**
     * Generates up to maxNew tokens after the prompt (stopping after eos, if eos ≥ 0), starting from an empty
     * session.
     *
     * @throws IllegalArgumentException if the prompt is empty
     * @throws IllegalStateException    if prompt + maxNew passes the context length
     */
    public Result generate(int[] prompt, int maxNew, int eos) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("generate: empty prompt");
        }
        if (prompt.length + maxNew > session.contextLength) {
            throw new IllegalStateException("prompt " + prompt.length + " + maxNew " + maxNew
                    + " passes the context length " + session.contextLength);
        }
        Result[] result = new Result[1];
        // one hand-off to the compute pool per call: its kernels' parallel loops then split without one per loop
        ComputePool.run(() -> result[0] = run(prompt, maxNew, eos));
        return result[0];
    }

    private Result run(int[] prompt, int maxNew, int eos) {
        long start = System.nanoTime();
        session.truncate(0);
        prefill(Arrays.copyOf(prompt, prompt.length - 1));
        int[] out = new int[maxNew];
        int emitted = 0, rounds = 0, drafted = 0, accepted = 0;
        int pending = prompt[prompt.length - 1];
        int[] drafts = new int[speculations];
        int steps = stack.plan().size();
        while (emitted < maxNew) {
            int base = session.position();
            int budget = Math.min(speculations, maxNew - emitted - 1);
            int m = 0, inp = pending;
            while (m < budget) {                             // draft phase
                Tensor xe = draft(inp, m);
                head.logits(stack.finish(xe, session), logits.rows(1));
                if (q == null) {
                    inp = OutputHead.argmax(logits.rows(1), 0);
                } else {
                    inp = sample(distribution(logits.rows(1), 0, q[m]));
                }
                drafts[m++] = inp;
                if (inp == eos) {
                    break;
                }
            }
            draft(m == 0 ? pending : drafts[m - 1], m);     // early steps on the last token (verify, part 1)
            Tensor late = exits.rows(m + 1);
            stack.runSteps(draftSteps, steps, late, null, session); // verify, part 2: one late call
            Tensor lg = head.logits(stack.finish(late, session), logits.rows(m + 1));
            rounds++;
            drafted += m;
            int j = 0, bonus;
            if (q == null) {
                while (j < m && drafts[j] == OutputHead.argmax(lg, j)) {
                    j++;
                }
                bonus = OutputHead.argmax(lg, j);
            } else {
                bonus = -1;
                while (j < m) {
                    distribution(lg, j, p);
                    int d = drafts[j];
                    if (rng.nextDouble() * q[j][d] < p[d]) {  // accept with probability min(1, p/q)
                        j++;
                        continue;
                    }
                    for (int v = 0; v < p.length; v++) {
                        p[v] = Math.max(p[v] - q[j][v], 0);
                    }
                    bonus = sample(p);
                    break;
                }
                if (bonus < 0) {
                    bonus = sample(distribution(lg, j, p));
                }
            }
            accepted += j;
            session.truncate(base + 1 + j);
            boolean stop = false;
            for (int k = 0; k <= j && !stop; k++) {
                int tok = k < j ? drafts[k] : bonus;
                out[emitted++] = tok;
                stop = tok == eos || emitted == maxNew;
            }
            if (stop) {
                break;
            }
            pending = bonus;
        }
        return new Result(Arrays.copyOf(out, emitted), rounds, drafted, accepted, System.nanoTime() - start);
    }

    // softmax(logits[row] / T) into out (double); returns out
    private double[] distribution(Tensor lg, int row, double[] out) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int v = 0; v < out.length; v++) {
            out[v] = lg.getFloat(row, v) / temperature;
            max = Math.max(max, out[v]);
        }
        for (int v = 0; v < out.length; v++) {
            out[v] = Math.exp(out[v] - max);
            sum += out[v];
        }
        for (int v = 0; v < out.length; v++) {
            out[v] /= sum;
        }
        return out;
    }

    // a token drawn from weights w (not necessarily normalized)
    private int sample(double[] w) {
        double total = 0;
        for (double x : w) {
            total += x;
        }
        double u = rng.nextDouble() * total;
        int last = 0;
        for (int v = 0; v < w.length; v++) {
            if (w[v] > 0) {
                last = v;
                u -= w[v];
                if (u < 0) {
                    return v;
                }
            }
        }
        return last;
    }

    // Runs steps [0, E) on one token and stores x_E in row `row` of the exit buffer; returns the stream view.
    private Tensor draft(int token, int row) {
        session.oneToken[0] = token;
        Tensor x = stack.embed(session.oneToken, null, session);
        stack.runSteps(0, draftSteps, x, null, session);
        int d = stack.hidden();
        System.arraycopy(session.x.data(), 0, exits.data(), row * d, d); // x is the first row of session.x
        return x;
    }

    private void prefill(int[] tokens) {
        for (int i = 0; i < tokens.length; i += session.maxTokens) {
            int[] chunk = Arrays.copyOfRange(tokens, i, Math.min(tokens.length, i + session.maxTokens));
            Tensor x = stack.embed(chunk, null, session);
            stack.runSteps(0, stack.plan().size(), x, null, session);
        }
    }

    // the decoder's session (tests compare its caches with plain decoding)
    PlanSession session() {
        return session;
    }

    /** Plain greedy decoding with the same plan (the reference the self-speculative output must equal). */
    public static int[] greedy(PlannedStack stack, OutputHead head, int[] prompt, int maxNew, int eos,
                               int contextLength) {
        return greedy(stack, head, prompt, maxNew, eos, contextLength, KvType.F32);
    }

    /** As above, with the session's KV caches stored in {@code kvType}. */
    public static int[] greedy(PlannedStack stack, OutputHead head, int[] prompt, int maxNew, int eos,
                               int contextLength, KvType kvType) {
        PlanSession s = stack.newSession(contextLength, prompt.length, kvType);
        Tensor h = stack.forward(prompt, s);
        Tensor lg = Tensor.zeros(prompt.length, head.vocab());
        head.logits(h, lg);
        int[] out = new int[maxNew];
        int tok = OutputHead.argmax(lg, prompt.length - 1), n = 0;
        Tensor one = Tensor.zeros(1, head.vocab());
        while (true) {
            out[n++] = tok;
            if (tok == eos || n == maxNew) {
                break;
            }
            head.logits(stack.decode(tok, s), one);
            tok = OutputHead.argmax(one, 0);
        }
        return Arrays.copyOf(out, n);
    }
}
