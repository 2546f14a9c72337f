package dev.interlayer.models.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.llama.LlamaModel;
import dev.interlayer.models.tokenizer.Tokenizer;
import dev.interlayer.models.tokenizer.Tokenizers;
import dev.interlayer.tensor.ComputePool;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Generation loop on stories260K: greedy equals llama.cpp, seeded sampling is reproducible, stops work. */
class GeneratorTest {
    static final int[] PROMPT = {1, 403, 407, 261, 378};
    // llama.cpp greedy continuation of PROMPT (from the task brief), first 32 tokens
    static final int[] LLAMA_CPP_32 = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
            410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394};

    static GgufFile file;
    static LlamaModel model;
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        file = Gguf.open(SharedModels.require("stories260K/stories260K.gguf"));
        model = LlamaModel.load(file);
        tokenizer = Tokenizers.fromGguf(file.metadata());
    }

    @AfterAll
    static void close() {
        if (file != null) {
            file.close();
        }
    }

    /** Text that {@code generated} adds after {@code prompt}: decode of both, less the prompt's own text. */
    static String continuation(int[] prompt, int[] generated) {
        String p = tokenizer.decode(prompt), whole = tokenizer.decode(concat(prompt, generated));
        assertTrue(whole.startsWith(p), whole);
        return whole.substring(p.length());
    }

    @Test
    void textPromptContinuationKeepsTheFirstTokensSpace() {
        // "The dog" -> greedy "▁was": streamed text is " was ...", as the prompt's text plus it decodes
        int[] prompt = tokenizer.encode("The dog");
        StringBuilder streamed = new StringBuilder();
        GenerationResult r = Generator.builder(model, tokenizer).maxTokens(6).build()
                .generate("The dog", t -> streamed.append(t.text()));
        assertEquals(continuation(prompt, r.tokens()), r.text());
        assertEquals(r.text(), streamed.toString());
        assertEquals(tokenizer.decode(prompt) + r.text(), tokenizer.decode(concat(prompt, r.tokens())));
        assertTrue(tokenizer.tokenText(r.tokens()[0]).startsWith("\u2581") == r.text().startsWith(" "), r.text());
    }

    private static int[] concat(int[] a, int[] b) {
        int[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void greedyGeneratorMatchesLlamaCpp() {
        StringBuilder streamed = new StringBuilder();
        int[] count = {0};
        GenerationResult r = Generator.builder(model, tokenizer).maxTokens(32).build()
                .generate(PROMPT, t -> {
                    streamed.append(t.text());
                    count[0]++;
                });
        assertArrayEquals(LLAMA_CPP_32, r.tokens());
        assertEquals(32, r.generatedTokens());
        assertEquals(5, r.promptTokens());
        assertEquals(GenerationResult.StopReason.MAX_TOKENS, r.stopReason());
        assertEquals(continuation(PROMPT, LLAMA_CPP_32), r.text());
        assertEquals(r.text(), streamed.toString());
        assertTrue(count[0] >= 32);
        assertTrue(r.prefillNanos() > 0 && r.decodeNanos() > 0);
    }

    @Test
    void textPromptIsEncodedWithBos() {
        GenerationResult r = Generator.builder(model, tokenizer).maxTokens(8).build().generate("Once upon a time", null);
        assertArrayEquals(PROMPT, tokenizer.encode("Once upon a time"));
        assertArrayEquals(Arrays.copyOf(LLAMA_CPP_32, 8), r.tokens());
    }

    @Test
    void seededSamplingIsReproducibleAcrossThreadCounts() {
        Sampler s = new Sampler.Stochastic(0.9f, 40, 0.95f, 0.02f, 1234L);
        int before = ComputePool.threads();
        try {
            ComputePool.setThreads(1);
            int[] a = Generator.builder(model, tokenizer).sampler(s).maxTokens(24).stopAtEos(false).build()
                    .generate(PROMPT, null).tokens();
            ComputePool.setThreads(2);
            int[] b = Generator.builder(model, tokenizer).sampler(s).maxTokens(24).stopAtEos(false).build()
                    .generate(PROMPT, null).tokens();
            assertArrayEquals(a, b);
            int[] c = Generator.builder(model, tokenizer).sampler(new Sampler.Stochastic(0.9f, 40, 0.95f, 0.02f, 99L))
                    .maxTokens(24).stopAtEos(false).build().generate(PROMPT, null).tokens();
            assertFalse(Arrays.equals(a, c), "another seed should give another sample path at temperature 0.9");
        } finally {
            ComputePool.setThreads(before);
        }
    }

    @Test
    void stopStringCutsTextAndStreamMatches() {
        String full = continuation(PROMPT, LLAMA_CPP_32);
        String stop = full.substring(full.length() / 2, full.length() / 2 + 4);
        StringBuilder streamed = new StringBuilder();
        GenerationResult r = Generator.builder(model, tokenizer).maxTokens(32).stopStrings(stop).build()
                .generate(PROMPT, t -> streamed.append(t.text()));
        assertEquals(GenerationResult.StopReason.STOP_STRING, r.stopReason());
        assertEquals(full.substring(0, full.indexOf(stop)), r.text());
        assertEquals(r.text(), streamed.toString());
        assertTrue(r.generatedTokens() < 32);
    }

    @Test
    void stopTokenEndsGeneration() {
        GenerationResult r = Generator.builder(model, tokenizer).maxTokens(32).stopTokens(LLAMA_CPP_32[5]).build()
                .generate(PROMPT, null);
        assertEquals(GenerationResult.StopReason.STOP_TOKEN, r.stopReason());
        assertArrayEquals(Arrays.copyOf(LLAMA_CPP_32, 6), r.tokens());
        assertEquals(continuation(PROMPT, Arrays.copyOf(LLAMA_CPP_32, 5)), r.text());
    }

    @Test
    void repetitionPenaltyChangesGreedyPath() {
        // stories260K's greedy path repeats 432 (positions 0 and 29); a strong penalty must avoid repeats
        int[] t = Generator.builder(model, tokenizer).maxTokens(32).repetitionPenalty(100f, 64).build()
                .generate(PROMPT, null).tokens();
        assertEquals(LLAMA_CPP_32[0], t[0]);   // nothing generated yet; the prompt tokens don't include 432
        assertNotEquals(Arrays.toString(LLAMA_CPP_32), Arrays.toString(t));
        long distinct = Arrays.stream(t).distinct().count();
        assertEquals(t.length, distinct, "penalty 100 over the last 64 tokens should forbid repeats: " + Arrays.toString(t));
    }

    @Test
    void hugeMaxTokensStopsAtTheContextWithoutSizingBuffersByIt() {
        // maxTokens = MAX_VALUE used to overflow prompt.length + maxTokens (NegativeArraySizeException)
        GenerationResult r = Generator.builder(model, null).maxTokens(Integer.MAX_VALUE).stopAtEos(false).build()
                .generate(PROMPT, null);
        assertEquals(GenerationResult.StopReason.CONTEXT_FULL, r.stopReason());
        assertEquals(model.contextLength() - PROMPT.length + 1, r.generatedTokens());
    }
}
