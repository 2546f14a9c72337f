package dev.interlayer.models.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.Stories260K;
import dev.interlayer.tensor.ComputePool;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Generation loop on stories260K: greedy equals llama.cpp, seeded sampling is reproducible, stops work. */
class GeneratorTest {
    static final int[] PROMPT = Stories260K.PROMPT;
    // llama.cpp greedy continuation of PROMPT (from the task brief), first 32 tokens
    static final int[] LLAMA_CPP_32 = Arrays.copyOf(Stories260K.LLAMA_CPP_GREEDY, 32);

    @RegisterExtension
    static final Stories260K stories = new Stories260K();

    /** Text that {@code generated} adds after {@code prompt}: decode of both, less the prompt's own text. */
    static String continuation(int[] prompt, int[] generated) {
        String p = stories.tokenizer.decode(prompt), whole = stories.tokenizer.decode(concat(prompt, generated));
        assertTrue(whole.startsWith(p), whole);
        return whole.substring(p.length());
    }

    @Test
    void textPromptContinuationKeepsTheFirstTokensSpace() {
        // "The dog" -> greedy "▁was": streamed text is " was ...", as the prompt's text plus it decodes
        int[] prompt = stories.tokenizer.encode("The dog");
        StringBuilder streamed = new StringBuilder();
        GenerationResult r = stories.generator().maxTokens(6).build()
                .generate("The dog", t -> streamed.append(t.text()));
        assertEquals(continuation(prompt, r.tokens()), r.text());
        assertEquals(r.text(), streamed.toString());
        assertEquals(stories.tokenizer.decode(prompt) + r.text(), stories.tokenizer.decode(concat(prompt, r.tokens())));
        assertTrue(stories.tokenizer.tokenText(r.tokens()[0]).startsWith("\u2581") == r.text().startsWith(" "),
                r.text());
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
        GenerationResult r = stories.generator().maxTokens(32).build()
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
        GenerationResult r = stories.generator().maxTokens(8).build().generate("Once upon a time", null);
        assertArrayEquals(PROMPT, stories.tokenizer.encode("Once upon a time"));
        assertArrayEquals(Arrays.copyOf(LLAMA_CPP_32, 8), r.tokens());
    }

    @Test
    void seededSamplingIsReproducibleAcrossThreadCounts() {
        Sampler s = new Sampler.Stochastic(0.9f, 40, 0.95f, 0.02f, 1234L);
        int before = ComputePool.threads();
        try {
            ComputePool.setThreads(1);
            int[] a = stories.generator().sampler(s).maxTokens(24).stopAtEos(false).build()
                    .generate(PROMPT, null).tokens();
            ComputePool.setThreads(2);
            int[] b = stories.generator().sampler(s).maxTokens(24).stopAtEos(false).build()
                    .generate(PROMPT, null).tokens();
            assertArrayEquals(a, b);
            int[] c = stories.generator().sampler(new Sampler.Stochastic(0.9f, 40, 0.95f, 0.02f, 99L))
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
        GenerationResult r = stories.generator().maxTokens(32).stopStrings(stop).build()
                .generate(PROMPT, t -> streamed.append(t.text()));
        assertEquals(GenerationResult.StopReason.STOP_STRING, r.stopReason());
        assertEquals(full.substring(0, full.indexOf(stop)), r.text());
        assertEquals(r.text(), streamed.toString());
        assertTrue(r.generatedTokens() < 32);
    }

    @Test
    void stopTokenEndsGeneration() {
        GenerationResult r = stories.generator().maxTokens(32).stopTokens(LLAMA_CPP_32[5]).build()
                .generate(PROMPT, null);
        assertEquals(GenerationResult.StopReason.STOP_TOKEN, r.stopReason());
        assertArrayEquals(Arrays.copyOf(LLAMA_CPP_32, 6), r.tokens());
        assertEquals(continuation(PROMPT, Arrays.copyOf(LLAMA_CPP_32, 5)), r.text());
    }

    @Test
    void repetitionPenaltyChangesGreedyPath() {
        // stories260K's greedy path repeats 432 (positions 0 and 29); a strong penalty must avoid repeats
        int[] t = stories.generator().maxTokens(32).repetitionPenalty(100f, 64).build()
                .generate(PROMPT, null).tokens();
        assertEquals(LLAMA_CPP_32[0], t[0]);   // nothing generated yet; the prompt tokens don't include 432
        assertNotEquals(Arrays.toString(LLAMA_CPP_32), Arrays.toString(t));
        long distinct = Arrays.stream(t).distinct().count();
        assertEquals(t.length, distinct, "penalty 100 over the last 64 tokens should forbid repeats: " + Arrays.toString(t));
    }

    @Test
    void hugeMaxTokensStopsAtTheContextWithoutSizingBuffersByIt() {
        // maxTokens = MAX_VALUE used to overflow prompt.length + maxTokens (NegativeArraySizeException)
        GenerationResult r = Generator.builder(stories.model, null).maxTokens(Integer.MAX_VALUE).stopAtEos(false)
                .build().generate(PROMPT, null);
        assertEquals(GenerationResult.StopReason.CONTEXT_FULL, r.stopReason());
        assertEquals(stories.model.contextLength() - PROMPT.length + 1, r.generatedTokens());
    }
}
