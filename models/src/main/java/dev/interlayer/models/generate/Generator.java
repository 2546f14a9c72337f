package dev.interlayer.models.generate;

import dev.interlayer.models.tokenizer.StreamingDecoder;
import dev.interlayer.models.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Autoregressive generation: prefill the prompt, then repeatedly sample a token from the last logits
 * (after an optional repetition penalty) and feed it back, until a stop token, a stop string, the token
 * limit or the context limit. Built once per model; each {@link #generate} call runs its own session, so
 * one Generator may serve several threads.
 *
 * <pre>{@code
 * Generator gen = Generator.builder(model, tokenizer).sampler(Sampler.greedy()).maxTokens(128).build();
 * GenerationResult r = gen.generate("Once upon a time", t -> System.out.print(t.text()));
 * }</pre>
 */
public final class Generator {
    /** One streamed token: its id and the text it completed (may be empty for a partial UTF-8 character). */
    public record Token(int id, String text) {
    }

    private final CausalLM model;
    private final Tokenizer tokenizer;
    private final Sampler sampler;
    private final int maxTokens;
    private final int[] stopTokens;
    private final List<String> stopStrings;
    private final float repetitionPenalty;
    private final int repeatLastN;

    private Generator(Builder b) {
        this.model = b.model;
        this.tokenizer = b.tokenizer;
        this.sampler = b.sampler;
        this.maxTokens = b.maxTokens;
        List<Integer> stops = new ArrayList<>(b.stopTokens);
        if (b.stopAtEos && tokenizer != null) {
            tokenizer.eos().ifPresent(stops::add);
        }
        this.stopTokens = stops.stream().mapToInt(Integer::intValue).distinct().toArray();
        this.stopStrings = List.copyOf(b.stopStrings);
        this.repetitionPenalty = b.repetitionPenalty;
        this.repeatLastN = b.repeatLastN;
    }

    /** A builder; {@code tokenizer} may be null when only token ids are used (text is then empty). */
    public static Builder builder(CausalLM model, Tokenizer tokenizer) {
        return new Builder(model, tokenizer);
    }

    /** Encodes {@code prompt} with the tokenizer (adding BOS as the model's file says) and generates. */
    public GenerationResult generate(String prompt, Consumer<Token> onToken) {
        if (tokenizer == null) {
            throw new IllegalStateException("generate(String) needs a tokenizer; pass token ids instead");
        }
        return generate(tokenizer.encode(prompt), onToken);
    }

    /** Generates after the prompt token ids (used as given: no BOS is added). {@code onToken} may be null. */
    public GenerationResult generate(int[] prompt, Consumer<Token> onToken) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt must have at least one token (e.g. BOS)");
        }
        if (prompt.length >= model.contextLength()) {
            throw new IllegalArgumentException("prompt of " + prompt.length + " tokens does not fit the context of "
                    + model.contextLength());
        }
        int capacity = (int) Math.min((long) prompt.length + maxTokens, model.contextLength());
        CausalLM.Session session = model.newSession(capacity);
        Sampler.Picker picker = sampler.start(model.vocabSize());
        // primed with the prompt: the first token continues its text ("The dog" + "▁was" -> " was")
        StreamingDecoder decoder = tokenizer == null ? null : tokenizer.streamingDecoder(prompt);
        boolean[] seen = new boolean[model.vocabSize()];          // scratch for the repetition penalty
        // at most one pick per free position plus the last one: sizes the buffers even for maxTokens = MAX_VALUE
        int limit = (int) Math.min(maxTokens, (long) capacity - prompt.length + 1);
        int[] history = Arrays.copyOf(prompt, prompt.length + limit);
        int historyLen = prompt.length;
        int[] generated = new int[limit];
        int[] one = new int[1];
        StringBuilder text = new StringBuilder();
        int emitted = 0;                                          // chars of text already streamed
        GenerationResult.StopReason reason = GenerationResult.StopReason.MAX_TOKENS;

        long t0 = System.nanoTime();
        float[] logits = session.append(prompt, 0, prompt.length);
        long t1 = System.nanoTime();
        int n = 0;
        while (n < maxTokens) {
            penalize(logits, history, historyLen, seen);
            int id = picker.pick(logits);
            generated[n++] = id;
            history[historyLen++] = id;
            if (contains(stopTokens, id)) {
                reason = GenerationResult.StopReason.STOP_TOKEN;
                break;
            }
            String piece = decoder == null ? "" : decoder.next(id);
            text.append(piece);
            int stopAt = findStop(text, emitted);
            if (stopAt >= 0) {
                text.setLength(stopAt);
                emit(onToken, id, text, emitted);
                emitted = text.length();
                reason = GenerationResult.StopReason.STOP_STRING;
                break;
            }
            int safe = text.length() - heldBack(text);
            if (onToken != null) {
                onToken.accept(new Token(id, text.substring(emitted, Math.max(emitted, safe))));
            }
            emitted = Math.max(emitted, safe);
            if (n == maxTokens) {
                break;
            }
            if (session.position() >= session.capacity()) {
                reason = GenerationResult.StopReason.CONTEXT_FULL;
                break;
            }
            one[0] = id;
            logits = session.append(one, 0, 1);
        }
        if (reason != GenerationResult.StopReason.STOP_STRING && decoder != null) {
            text.append(decoder.flush());
        }
        if (emitted < text.length() && onToken != null) {
            onToken.accept(new Token(-1, text.substring(emitted)));
        }
        long t2 = System.nanoTime();
        return new GenerationResult(text.toString(), prompt.length, n, t1 - t0, t2 - t1, Arrays.copyOf(generated, n),
                reason);
    }

    private static void emit(Consumer<Token> onToken, int id, StringBuilder text, int emitted) {
        if (onToken != null) {
            onToken.accept(new Token(id, text.substring(Math.min(emitted, text.length()))));
        }
    }

    /**
     * CTRL-style penalty on the last {@code repeatLastN} tokens (each distinct token once): a positive
     * logit is divided by the penalty, a negative one multiplied (as llama.cpp and HF do).
     */
    private void penalize(float[] logits, int[] history, int len, boolean[] seen) {
        if (repetitionPenalty == 1f) {
            return;
        }
        int from = Math.max(0, len - repeatLastN);
        for (int i = from; i < len; i++) {
            int id = history[i];
            if (!seen[id]) {
                seen[id] = true;
                logits[id] = logits[id] > 0 ? logits[id] / repetitionPenalty : logits[id] * repetitionPenalty;
            }
        }
        for (int i = from; i < len; i++) {
            seen[history[i]] = false;
        }
    }

    /** Start of the first stop string in text that ends after {@code emitted}, or -1. */
    private int findStop(StringBuilder text, int emitted) {
        int best = -1;
        for (String s : stopStrings) {
            int at = text.indexOf(s, Math.max(0, emitted - s.length() + 1));
            if (at >= 0 && (best < 0 || at < best)) {
                best = at;
            }
        }
        return best;
    }

    /** Length of the longest suffix of text that is a proper prefix of a stop string (not yet safe to stream). */
    private int heldBack(StringBuilder text) {
        int hold = 0;
        for (String s : stopStrings) {
            for (int k = Math.min(s.length() - 1, text.length()); k > hold; k--) {
                if (endsWithPrefix(text, s, k)) {
                    hold = k;
                    break;
                }
            }
        }
        return hold;
    }

    /** True if the last k chars of text equal the first k chars of s. */
    private static boolean endsWithPrefix(StringBuilder text, String s, int k) {
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

    /** Settings for a {@link Generator}. */
    public static final class Builder {
        private final CausalLM model;
        private final Tokenizer tokenizer;
        private Sampler sampler = Sampler.greedy();
        private int maxTokens = 256;
        private final List<Integer> stopTokens = new ArrayList<>();
        private boolean stopAtEos = true;
        private final List<String> stopStrings = new ArrayList<>();
        private float repetitionPenalty = 1f;
        private int repeatLastN = 64;

        private Builder(CausalLM model, Tokenizer tokenizer) {
            this.model = java.util.Objects.requireNonNull(model, "model");
            this.tokenizer = tokenizer;
        }

        /** Token chooser (default greedy). */
        public Builder sampler(Sampler s) {
            this.sampler = java.util.Objects.requireNonNull(s, "sampler");
            return this;
        }

        /** Most tokens to sample (≥ 1, default 256). */
        public Builder maxTokens(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxTokens must be >= 1, got " + n);
            }
            this.maxTokens = n;
            return this;
        }

        /** Extra token ids that end generation (the tokenizer's EOS always does unless {@link #stopAtEos}(false)). */
        public Builder stopTokens(int... ids) {
            for (int id : ids) {
                if (id < 0 || id >= model.vocabSize()) {
                    throw new IllegalArgumentException("stop token " + id + " outside vocabulary [0, "
                            + model.vocabSize() + ")");
                }
                stopTokens.add(id);
            }
            return this;
        }

        /** Whether the tokenizer's EOS ends generation (default true). */
        public Builder stopAtEos(boolean b) {
            this.stopAtEos = b;
            return this;
        }

        /** Strings that end generation; the text is cut before the first occurrence. */
        public Builder stopStrings(String... s) {
            for (String x : s) {
                if (x.isEmpty()) {
                    throw new IllegalArgumentException("stop strings must be non-empty");
                }
                stopStrings.add(x);
            }
            return this;
        }

        /** Repetition penalty ≥ 1 over the last {@code lastN} tokens (1 = off, default). */
        public Builder repetitionPenalty(float penalty, int lastN) {
            if (!(penalty > 0) || Float.isInfinite(penalty) || lastN < 0) {
                throw new IllegalArgumentException("repetition penalty must be > 0 and lastN >= 0, got " + penalty
                        + ", " + lastN);
            }
            this.repetitionPenalty = penalty;
            this.repeatLastN = lastN;
            return this;
        }

        /** The generator. */
        public Generator build() {
            return new Generator(this);
        }
    }
}
