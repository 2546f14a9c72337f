package dev.interlayer.models.generate;

import dev.interlayer.models.tokenizer.StreamingDecoder;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * One generation advanced a token at a time, so that a scheduler can interleave many (and, later, batch
 * their decode steps): {@link #prefill()} runs the prompt and picks the first token; each decode step feeds
 * {@link #nextInput()} to the {@link #session()} and hands the resulting logits to {@link #accept}, which
 * applies the repetition penalty, picks the next token and streams its text; {@link #finish()} flushes the
 * held-back text and returns the result. {@link Generator#generate} is exactly this loop with
 * {@link #step()} (one {@code session.append} per token).
 *
 * <p>Text is streamed as it becomes safe: the tail that could still be the start of a stop string is held
 * back until it is known not to be one, so a stop string never reaches {@code onToken}, not even in part.
 * Not thread-safe: one thread at a time drives a run. A decode step allocates only the streamed token and its text.
 */
public final class GenerationRun {
    private final Generator gen;
    private final CausalLM.Session session;
    private final Sampler.Picker picker;
    private final StreamingDecoder decoder;       // null without a tokenizer
    private final Consumer<Generator.Token> onToken;
    private final int[] prompt;
    private final int maxTokens;
    private final boolean[] seen;                 // [vocab] scratch for the repetition penalty
    private final int[] history;                  // [prompt + limit] prompt then sampled ids
    private final int[] generated;                // [limit]
    private final int[] one = new int[1];
    private final StringBuilder text = new StringBuilder();
    private int historyLen, n, emitted;           // emitted: chars of text already streamed
    private int prefillPos;                       // prompt tokens appended to the session so far
    private boolean prefilled, done;
    private GenerationResult.StopReason reason = GenerationResult.StopReason.MAX_TOKENS;
    private long prefillNanos, t1;               // prefill: the slices' own time, not what ran between them

    GenerationRun(Generator gen, int[] prompt, Consumer<Generator.Token> onToken) {
        CausalLM model = gen.model();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt must have at least one token (e.g. BOS)");
        }
        if (prompt.length >= model.contextLength()) {
            throw new IllegalArgumentException("prompt of " + prompt.length + " tokens does not fit the context of "
                    + model.contextLength());
        }
        this.gen = gen;
        this.prompt = prompt.clone();
        this.maxTokens = gen.maxTokens();
        this.onToken = onToken;
        int capacity = (int) Math.min((long) prompt.length + maxTokens, model.contextLength());
        this.session = model.newSession(capacity);
        this.picker = gen.sampler().start(model.vocabSize());
        // primed with the prompt: the first token continues its text ("The dog" + "▁was" -> " was")
        this.decoder = gen.tokenizer() == null ? null : gen.tokenizer().streamingDecoder(prompt);
        this.seen = new boolean[model.vocabSize()];
        // at most one pick per free position plus the last one: sizes the buffers even for maxTokens = MAX_VALUE
        int limit = (int) Math.min(maxTokens, (long) capacity - prompt.length + 1);
        this.history = Arrays.copyOf(prompt, prompt.length + limit);
        this.historyLen = prompt.length;
        this.generated = new int[limit];
    }

    /** The run's own session (KV cache), never shared with another run. */
    public CausalLM.Session session() {
        return session;
    }

    /** Prompt length in tokens. */
    public int promptTokens() {
        return prompt.length;
    }

    /** Tokens sampled so far. */
    public int generatedTokens() {
        return n;
    }

    /** True once generation has ended (stop token, stop string, token limit or full context). */
    public boolean done() {
        return done;
    }

    /**
     * Appends the whole prompt to the session and picks the first token from its last logits.
     *
     * @throws IllegalStateException if called twice
     */
    public void prefill() {
        if (prefilled) {
            throw new IllegalStateException("prefill: already done");
        }
        prefillSlice(prompt.length);
    }

    /**
     * Appends the next {@code maxTokens} prompt tokens (fewer at the end of the prompt) and, once the whole prompt
     * is in, picks the first token: a server interleaves a long prompt with the other requests' decode steps this
     * way instead of stalling them for the whole prefill. Slices that are multiples of the session's prefill chunk
     * leave the chunk boundaries, and so the logits, exactly as one {@link #prefill()} would.
     *
     * @return true once the prompt is complete (the run is then prefilled)
     * @throws IllegalStateException    if the prompt is already complete
     * @throws IllegalArgumentException if maxTokens {@literal <} 1
     */
    public boolean prefillSlice(int maxTokens) {
        if (prefilled) {
            throw new IllegalStateException("prefill: already done");
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("prefill slice of " + maxTokens + " tokens: need >= 1");
        }
        long start = System.nanoTime();
        int len = Math.min(maxTokens, prompt.length - prefillPos);
        float[] logits = session.append(prompt, prefillPos, len);
        prefillPos += len;
        prefillNanos += System.nanoTime() - start;
        if (prefillPos < prompt.length) {
            return false;
        }
        prefilled = true;
        t1 = System.nanoTime();
        accept(logits);
        return true;
    }

    /** True once the whole prompt is in the session and the first token is picked. */
    public boolean prefilled() {
        return prefilled;
    }

    /**
     * The token the next decode step must feed to {@link #session()} at position {@code session().position()}:
     * the last one picked.
     *
     * @throws IllegalStateException before {@link #prefill()} or after the run is done
     */
    public int nextInput() {
        if (!prefilled || done) {
            throw new IllegalStateException("nextInput: run is " + (done ? "done" : "not prefilled"));
        }
        return generated[n - 1];
    }

    /** One sequential decode step: feeds {@link #nextInput()} to the session and {@link #accept}s its logits. */
    public void step() {
        one[0] = nextInput();
        accept(session.append(one, 0, 1));
    }

    /**
     * Picks the next token from {@code logits}, the model's output after {@link #nextInput()} (or after the
     * prompt), streams the text that became safe and ends the run on a stop condition. A batched decode step
     * computes the logits for many runs at once and calls this on each.
     *
     * <p>Shapes: logits [vocab]; modified in place by the repetition penalty (when one is set).
     *
     * @throws IllegalStateException if the run is done
     */
    public void accept(float[] logits) {
        if (done) {
            throw new IllegalStateException("accept: run is done");
        }
        penalize(logits);
        int id = picker.pick(logits);
        generated[n++] = id;
        history[historyLen++] = id;
        if (contains(gen.stopTokens(), id)) {
            end(GenerationResult.StopReason.STOP_TOKEN);
            return;
        }
        String piece = decoder == null ? "" : decoder.next(id);
        text.append(piece);
        int stopAt = findStop();
        if (stopAt >= 0) {
            text.setLength(stopAt);
            if (onToken != null) {
                onToken.accept(new Generator.Token(id, text.substring(Math.min(emitted, text.length()))));
            }
            emitted = text.length();
            end(GenerationResult.StopReason.STOP_STRING);
            return;
        }
        int safe = text.length() - heldBack();
        if (onToken != null) {
            onToken.accept(new Generator.Token(id, text.substring(emitted, Math.max(emitted, safe))));
        }
        emitted = Math.max(emitted, safe);
        if (n == maxTokens) {
            end(GenerationResult.StopReason.MAX_TOKENS);
        } else if (session.position() >= session.capacity()) {
            end(GenerationResult.StopReason.CONTEXT_FULL);
        }
    }

    private void end(GenerationResult.StopReason r) {
        reason = r;
        done = true;
    }

    /**
     * Ends the run: streams the held-back text (and the decoder's last bytes) unless a stop string ended it,
     * and returns the result. A run stopped early (cancelled) reports {@code MAX_TOKENS}.
     */
    public GenerationResult finish() {
        done = true;
        if (reason != GenerationResult.StopReason.STOP_STRING && decoder != null) {
            text.append(decoder.flush());
        }
        if (emitted < text.length() && onToken != null) {
            onToken.accept(new Generator.Token(-1, text.substring(emitted)));
        }
        emitted = text.length();
        long t2 = System.nanoTime();
        return new GenerationResult(text.toString(), prompt.length, n, prefillNanos, t2 - t1, Arrays.copyOf(generated, n),
                reason);
    }

    /**
     * CTRL-style penalty on the last {@code repeatLastN} tokens (each distinct token once): a positive
     * logit is divided by the penalty, a negative one multiplied (as llama.cpp and HF do).
     */
    private void penalize(float[] logits) {
        float penalty = gen.repetitionPenalty();
        if (penalty == 1f) {
            return;
        }
        int from = Math.max(0, historyLen - gen.repeatLastN());
        for (int i = from; i < historyLen; i++) {
            int id = history[i];
            if (!seen[id]) {
                seen[id] = true;
                logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty;
            }
        }
        for (int i = from; i < historyLen; i++) {
            seen[history[i]] = false;
        }
    }

    /** Start of the first stop string in text that ends after {@code emitted}, or -1. */
    private int findStop() {
        int best = -1;
        for (String s : gen.stopStrings()) {
            int at = text.indexOf(s, Math.max(0, emitted - s.length() + 1));
            if (at >= 0 && (best < 0 || at < best)) {
                best = at;
            }
        }
        return best;
    }

    /** Length of the longest suffix of text that is a proper prefix of a stop string (not yet safe to stream). */
    private int heldBack() {
        int hold = 0;
        for (String s : gen.stopStrings()) {
            for (int k = Math.min(s.length() - 1, text.length()); k > hold; k--) {
                if (endsWithPrefix(s, k)) {
                    hold = k;
                    break;
                }
            }
        }
        return hold;
    }

    /** True if the last k chars of text equal the first k chars of s. */
    private boolean endsWithPrefix(String s, int k) {
        int base = text.length() - k;
        for (int i = 0; i < k; i++) {
            if (text.charAt(base + i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }
}
