package dev.interlayer.models.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.generate.GenerationResult;
import dev.interlayer.models.generate.Generator;
import dev.interlayer.models.generate.Sampler;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The scheduler without HTTP, on stories260K: a decode step written against the batched-decode contract
 * ({@code nextInput} → the slot's own session → {@code accept(logits)}) gives every request the same tokens as
 * {@link Generator#generate} run alone, whatever the interleaving.
 */
class SchedulerTest {
    @RegisterExtension
    static final ServeFixture served = ServeFixture.model(ServeClient::stories);

    /** Collects one slot's stream and result. */
    static final class Collect implements Slot.Sink {
        final StringBuilder streamed = new StringBuilder();
        final CompletableFuture<GenerationResult> result = new CompletableFuture<>();

        @Override
        public void text(String piece) {
            streamed.append(piece);
        }

        @Override
        public void done(GenerationResult r) {
            result.complete(r);
        }

        @Override
        public void failed(Throwable error) {
            result.completeExceptionally(error);
        }
    }

    static Generator generator(int i) {
        Sampler s = i % 2 == 0 ? Sampler.greedy() : new Sampler.Stochastic(0.8f, 0, 0.95f, 0f, 31L * i);
        return served.generator().sampler(s).maxTokens(5 + 4 * i).build();
    }

    @Test
    void stepsThroughTheBatchedDecodeContractEqualGenerateAlone() throws Exception {
        // what a batched step does per slot, written out one slot at a time: token in, logits out, accept
        DecodeStep contract = active -> {
            int[] one = new int[1];
            for (Slot s : active) {
                one[0] = s.run().nextInput();
                s.run().accept(s.run().session().append(one, 0, 1));
            }
        };
        everyRequestEqualsGenerateAlone(contract, 3);
    }

    /**
     * The real batched step (one weight pass per step): F32 stories260K, so the rows are bit-identical to decoding
     * alone by design and the tokens must be equal, also when the slots outnumber one pass (5 slots, passes of 2).
     */
    @Test
    void batchedDecodeStepEqualsGenerateAlone() throws Exception {
        DecodeStep batched = BatchedDecodeStep.forModel(served.model.lm().orElseThrow(), 4);
        assertTrue(batched instanceof BatchedDecodeStep, "a DecoderLM with parallel 4 decodes batched");
        everyRequestEqualsGenerateAlone(batched, 4);
        everyRequestEqualsGenerateAlone(BatchedDecodeStep.forModel(served.model.lm().orElseThrow(), 2), 5);
        assertTrue(!(BatchedDecodeStep.forModel(served.model.lm().orElseThrow(), 1) instanceof BatchedDecodeStep),
                "parallel 1 has nothing to batch");
    }

    private static void everyRequestEqualsGenerateAlone(DecodeStep step, int parallel) throws Exception {
        String[] prompts = {"Once upon a time", "The cat", "Lily and Tom", "One day", "A big red ball", "The sun"};
        try (Scheduler scheduler = new Scheduler(parallel, 8, step)) {
            List<Collect> sinks = new ArrayList<>();
            for (int i = 0; i < prompts.length; i++) {
                Collect c = new Collect();
                assertTrue(scheduler.submit(generator(i), served.model.completionPrompt(prompts[i]), c) != null);
                sinks.add(c);
            }
            for (int i = 0; i < prompts.length; i++) {
                GenerationResult got = sinks.get(i).result.get(10, TimeUnit.SECONDS);
                GenerationResult alone = generator(i).generate(served.model.completionPrompt(prompts[i]), null);
                assertArrayEquals(alone.tokens(), got.tokens(), "request " + i);
                assertEquals(alone.text(), got.text(), "request " + i);
                assertEquals(got.text(), sinks.get(i).streamed.toString(), "request " + i + " stream");
            }
            assertEquals(prompts.length, scheduler.stats().completed(), "counted before each result was handed over");
        }
    }

    /**
     * A long prompt is prefilled a slice per iteration while the running request keeps decoding: the running
     * request's steps see the newcomer's session part-way through its prompt (without slicing it would go from 0
     * to the whole prompt between two steps), and both answers still equal generating alone (slices are multiples
     * of the prefill chunk, so the long prompt's logits are those of one prefill).
     */
    @Test
    void aLongPromptIsPrefilledInSlicesBetweenTheOtherRequestsSteps() throws Exception {
        int[] longPrompt = served.model.completionPrompt("Once upon a time, there was a little dog. ".repeat(60));
        assertTrue(longPrompt.length > 4 * Scheduler.PREFILL_SLICE, "prompt of " + longPrompt.length + " tokens");
        Generator shortGen = served.generator().sampler(Sampler.greedy())
                .maxTokens(200).stopTokens(new int[0]).build();
        Generator longGen = served.generator().sampler(Sampler.greedy())
                .maxTokens(8).build();
        List<Integer> seenPositions = java.util.Collections.synchronizedList(new ArrayList<>());
        var newcomer = new java.util.concurrent.atomic.AtomicReference<Slot>();
        java.util.concurrent.CountDownLatch firstStep = new java.util.concurrent.CountDownLatch(1);
        DecodeStep recording = active -> {
            Slot b = newcomer.get();
            if (b != null && b.run() != null) {
                seenPositions.add(b.run().session().position());
            }
            DecodeStep.sequential().step(active);
            firstStep.countDown();
        };
        try (Scheduler scheduler = new Scheduler(2, 4, recording)) {
            Collect a = new Collect();
            Collect b = new Collect();
            int[] shortPrompt = served.model.completionPrompt("The cat");
            assertTrue(scheduler.submit(shortGen, shortPrompt, a) != null);
            assertTrue(firstStep.await(10, TimeUnit.SECONDS));
            newcomer.set(scheduler.submit(longGen, longPrompt, b));
            GenerationResult gotB = b.result.get(30, TimeUnit.SECONDS);
            GenerationResult gotA = a.result.get(30, TimeUnit.SECONDS);
            long partWay = seenPositions.stream().filter(p -> p > 0 && p < longPrompt.length).distinct().count();
            assertTrue(partWay >= 3, "positions of the long prompt seen at the other request's steps: " + seenPositions);
            assertArrayEquals(longGen.generate(longPrompt, null).tokens(), gotB.tokens());
            assertArrayEquals(shortGen.generate(shortPrompt, null).tokens(), gotA.tokens());
        }
    }

    @Test
    void queueRefusesBeyondItsCapacityAndAFailingStepFailsItsSlotsOnly() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        DecodeStep blockedThenFailing = active -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("step failed");
        };
        try (Scheduler scheduler = new Scheduler(1, 1, blockedThenFailing)) {
            Collect a = new Collect(), b = new Collect(), c = new Collect();
            assertTrue(scheduler.submit(generator(2), served.model.completionPrompt("The cat"), a) != null);
            ServerErrorsTest.waitFor(() -> scheduler.stats().admitted() == 1, "a admitted");   // a holds the slot
            // queued
            assertTrue(scheduler.submit(generator(2), served.model.completionPrompt("The dog"), b) != null);
            assertNull(scheduler.submit(generator(2), served.model.completionPrompt("The sun"), c),
                    "queue of 1 is full");
            assertEquals(1, scheduler.stats().rejected());
            release.countDown();
            Throwable ea = a.result.handle((r, t) -> t).get(10, TimeUnit.SECONDS);
            Throwable eb = b.result.handle((r, t) -> t).get(10, TimeUnit.SECONDS);
            assertEquals("step failed", ea.getMessage());
            assertEquals("step failed", eb.getMessage(), "the queued request ran (and failed) after a left");
            // the counter moves when the scheduler sweeps the slot, just after the sink heard of the failure
            ServerErrorsTest.waitFor(() -> scheduler.stats().failed() == 2, "both failures counted");
        }
    }
}
