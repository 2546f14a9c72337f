package dev.interlayer.models.generate;

import dev.interlayer.models.tokenizer.Tokenizer;
import java.util.ArrayList;
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
        GenerationRun run = start(prompt, onToken);
        run.prefill();
        while (!run.done()) {
            run.step();
        }
        return run.finish();
    }

    /**
     * A generation after {@code prompt} (used as given) that the caller advances step by step, e.g. a server
     * interleaving many requests; {@link #generate(int[], Consumer)} runs the same steps to the end.
     *
     * @throws IllegalArgumentException if the prompt is empty or does not fit the context
     */
    public GenerationRun start(int[] prompt, Consumer<Token> onToken) {
        return new GenerationRun(this, prompt, onToken);
    }

    /** {@link #start(int[], Consumer)} for a text prompt encoded with the tokenizer (BOS as the model's file says). */
    public GenerationRun start(String prompt, Consumer<Token> onToken) {
        if (tokenizer == null) {
            throw new IllegalStateException("start(String) needs a tokenizer; pass token ids instead");
        }
        return start(tokenizer.encode(prompt), onToken);
    }

    CausalLM model() {
        return model;
    }

    Tokenizer tokenizer() {
        return tokenizer;
    }

    Sampler sampler() {
        return sampler;
    }

    int maxTokens() {
        return maxTokens;
    }

    int[] stopTokens() {
        return stopTokens;
    }

    List<String> stopStrings() {
        return stopStrings;
    }

    float repetitionPenalty() {
        return repetitionPenalty;
    }

    int repeatLastN() {
        return repeatLastN;
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
