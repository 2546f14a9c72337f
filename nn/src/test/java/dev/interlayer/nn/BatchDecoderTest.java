package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link BatchDecoder} against the reference it must reproduce: the same sequences decoded one at a time by
 * {@link DecoderStack#decode} (twin sessions with the same history), on a small random stack of every family
 * ({@link BatchFamilies}), with batch sizes 1..5 over sequences at different positions.
 *
 * <p>Exact equality is the contract here, not a tolerance: both paths run the same per-row code and
 * products that compute a row the same way for any row count (identical by design, see
 * {@code MatVecVector}). It is checked bit for bit in a JVM that does not reorder (C1 only): there the
 * Vector API runs its Java form, in which lane sums and exp have one order and one rounding. In this JVM the
 * interpreter and C2 differ in both (C2 sums lanes in a tree and takes exp from a vector library), so a kernel
 * compiled between the batched step and the single one moves the last bits; in-process the comparison uses
 * {@link Runs#ROUNDING_TOL}.
 */
class BatchDecoderTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama", "qwen2-window", "gemma2", "olmo2", "gpt2", "moe"})
    void batchedMatchesDecodingAlone(String family) {
        double worst = BatchFamilies.maxBatchVsAlone(family);
        System.out.printf("batched vs alone in-process %s: %.3g%n", family, worst);
        assertTrue(worst <= Runs.ROUNDING_TOL, family + ": batched logits differ from single decode by " + worst);
    }

    /**
     * Block-quantized weights run the quantized kernels of {@code tensor.quant}: Q4_1 (like Q5_0, Q5_1, Q5_K)
     * computes one row and several rows with the same code; Q8_0 (like Q4_0, Q4_K, Q6_K) has a fused m = 1
     * decode kernel whose summation order differs from its several-row path, so batched and single decode
     * agree only to rounding there.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"quant-Q4_1", "quant-Q8_0"})
    void quantizedWeightsMatchDecodingAloneToRounding(String family) {
        double worst = BatchFamilies.maxBatchVsAlone(family);
        assertTrue(worst <= Runs.ROUNDING_TOL, family + ": batched logits differ from single decode by " + worst);
    }

    @Test
    void batchedIsBitIdenticalWithOneJitOrder() throws Exception {
        String out = ChildJvm.run(ExactProbe.class, List.of("-XX:TieredStopAtLevel=1"));
        System.out.print(out.lines().filter(l -> l.contains("worst=")).map(l -> "batched vs alone: " + l + "\n")
                .reduce("", String::concat));
        for (String family : BatchFamilies.NAMES) {
            assertTrue(out.contains(family + " worst=0.0\n"), family + " not bit-identical:\n" + out);
        }
        assertTrue(out.contains("quant-Q4_1 worst=0.0\n"), "Q4_1 shares its one-row and batch code:\n" + out);
    }

    /** Prints "family worst=E" per family, E = max |batched − alone| over the logits of every step. */
    static final class ExactProbe {
        private ExactProbe() {
        }

        public static void main(String[] args) {
            for (String family : BatchFamilies.NAMES) {
                System.out.print(family + " worst=" + BatchFamilies.maxBatchVsAlone(family) + "\n");
            }
            for (String family : new String[] {"quant-Q4_1", "quant-Q8_0"}) {
                System.out.print(family + " worst=" + BatchFamilies.maxBatchVsAlone(family) + "\n");
            }
        }
    }

    @Test
    void badInputIsRefusedWithoutTouchingTheSessions() {
        BatchFamilies.Model model = BatchFamilies.build("llama", 5);
        DecoderStack stack = model.stack();
        assertThrows(IllegalArgumentException.class, () -> new BatchDecoder(stack, 0));
        assertThrows(IllegalArgumentException.class, () -> new BatchDecoder(stack, 17));
        BatchDecoder decoder = stack.newBatchDecoder(2);
        StackSession a = stack.newSession(4, 4, false), b = stack.newSession(4, 4, false);
        StackSession other = BatchFamilies.build("llama", 6).stack().newSession(4, 4, false);
        int[] tokens = {1, 2};
        String dup = assertThrows(IllegalArgumentException.class,
                () -> decoder.decode(tokens, new StackSession[] {a, a}, 2)).getMessage();
        assertTrue(dup.contains("session 1 is also session 0"), dup);
        assertThrows(IllegalArgumentException.class, () -> decoder.decode(tokens, new StackSession[] {a, b}, 3));
        assertThrows(IllegalArgumentException.class, () -> decoder.decode(tokens, new StackSession[] {a, b}, 0));
        assertThrows(IllegalArgumentException.class, () -> decoder.decode(tokens, new StackSession[] {a, other}, 2));
        assertThrows(IllegalArgumentException.class,
                () -> decoder.decode(new int[] {1, BatchFamilies.VOCAB}, new StackSession[] {a, b}, 2));
        assertThrows(IllegalArgumentException.class, () -> decoder.decode(tokens,
                new StackSession[] {a, stack.newSession(4, 4, true)}, 2));
        assertThrows(IllegalArgumentException.class, () -> decoder.decode(tokens, new StackSession[] {a, b}, 2,
                model.head(), Tensor.zeros(2, BatchFamilies.VOCAB + 1)));
        stack.forward(new int[] {1, 2, 3, 4}, b);                  // b is full
        assertThrows(IllegalStateException.class, () -> decoder.decode(tokens, new StackSession[] {a, b}, 2));
        assertEquals(0, a.position(), "a refused step must not advance any session");
        assertEquals(4, b.position());
    }

    /** Bytes per batched step of 4 sequences, dense and MoE, once warm: same bound as single decode. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama", "moe"})
    void steadyStateStepAllocatesAtMostBound(String family) throws Exception {
        ChildJvm.Measured perStep = ChildJvm.measured(AllocationProbe.class, "bytesPerStep", family);
        System.out.printf("batched decode allocation %s: %d bytes/step (bound %d)%n", family, perStep.value(),
                ThreadAllocation.BOUND_BYTES);
        assertTrue(perStep.value() <= ThreadAllocation.BOUND_BYTES, "batched step allocated " + perStep.value()
                + " bytes; probe output:\n" + perStep.output());
    }

    /**
     * As {@link #steadyStateStepAllocatesAtMostBound} in a JVM that has run F16 and BF16 weight products first (as one
     * that served another model may have), with C2 forbidden to inline {@code GemmSpecies}' helpers: the decode tiles
     * must not depend on C2 inlining a helper of ours, because a vector returned from a call it did not inline is
     * boxed, and so is every vector a phi merges with it. Before the tiles called the JDK's loads themselves, about 1
     * JVM in 10 landed there by its own compilation order (19,968 B/step on "moe", seen in CI); with the helpers
     * forbidden it was 361,968 B/step ("moe") and 124,416 ("llama") every time. The any-kind tiles then still called
     * {@code GemmSpecies.loadF16} in their F16 branch: after F16 products it allocated 115–231 KB/step ("moe") and
     * 98–104 KB ("llama") every time, and without them 16,640 B/step in 2 of 7 runs of the plain "moe" probe (the
     * branch compiled before its profile said it was never taken).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama", "moe"})
    void stepAllocatesNothingWhenLoaderHelpersAreNotInlined(String family) throws Exception {
        ChildJvm.Measured perStep = ChildJvm.measured(List.of("-XX:CompileCommand=quiet",
                        "-XX:CompileCommand=dontinline,dev.interlayer.tensor.simd.GemmSpecies::*"),
                AllocationProbe.class, "bytesPerStep", family, AllocationProbe.OTHER_KINDS_FIRST);
        System.out.printf("batched decode allocation after F16/BF16 products, GemmSpecies not inlined, %s: %d "
                + "bytes/step (bound %d)%n", family, perStep.value(), ThreadAllocation.BOUND_BYTES);
        assertTrue(perStep.value() <= ThreadAllocation.BOUND_BYTES, "batched step allocated " + perStep.value()
                + " bytes with GemmSpecies not inlined; probe output:\n" + perStep.output());
    }

    /** Runs in its own JVM (see {@link DecodeAllocationTest}): warms batched decode up, prints bytesPerStep=N. */
    static final class AllocationProbe {
        private static final int STEPS = 32, PROMPT = 4, BATCH = 4;
        /** Second argument: run F16 and BF16 weight products before the model (see {@link #runOtherKinds}). */
        static final String OTHER_KINDS_FIRST = "other-kinds-first";

        private AllocationProbe() {
        }

        public static void main(String[] args) {
            if (args.length > 1 && args[1].equals(OTHER_KINDS_FIRST)) {
                runOtherKinds();
            }
            ThreadAllocation alloc = ThreadAllocation.onThisThread();
            BatchFamilies.Model model = BatchFamilies.build(args[0], 9);
            DecoderStack stack = model.stack();
            StackSession[] sessions = new StackSession[BATCH];
            for (int i = 0; i < BATCH; i++) {
                sessions[i] = stack.newSession(BatchFamilies.CONTEXT, PROMPT + i, false);
                stack.forward(new int[PROMPT + i], sessions[i]);
            }
            BatchDecoder decoder = stack.newBatchDecoder(BATCH);
            Tensor logits = Tensor.zeros(BATCH, BatchFamilies.VOCAB);
            int[] tokens = new int[BATCH];
            ThreadAllocation.warmUp(() -> round(decoder, sessions, tokens, model, logits, alloc), STEPS, "step", true);
            ThreadAllocation.printMedian(() -> round(decoder, sessions, tokens, model, logits, alloc), "bytesPerStep");
        }

        /**
         * Products on F16 and BF16 weights of the F32 stacks' shapes ([37, 53]: nine 4-row quarters and a last row)
         * for 1..4 activation rows, so that every tile and every kind branch of the dot-product path has run and has
         * a profile before the F32 model is compiled (a JVM that served an F16 or BF16 model first).
         */
        private static void runOtherKinds() {
            for (DType type : new DType[] {DType.F16, DType.BF16}) {
                Tensor w = Tensor.zeros(type, Shape.of(37, 53));
                for (int m = 1; m <= 4; m++) {
                    Tensor x = Tensor.zeros(m, 53), y = Tensor.zeros(m, 37);
                    for (int i = 0; i < 50; i++) {
                        Ops.matmulT(x, w, y);
                    }
                }
            }
        }

        // STEPS batched steps, then every session rolled back to its prompt; bytes per step
        private static long round(BatchDecoder decoder, StackSession[] sessions, int[] tokens,
                                  BatchFamilies.Model model, Tensor logits, ThreadAllocation alloc) {
            long before = alloc.bytes();
            for (int step = 0; step < STEPS; step++) {
                for (int i = 0; i < BATCH; i++) {
                    tokens[i] = (7 * step + 3 * i) % BatchFamilies.VOCAB;
                }
                decoder.decode(tokens, sessions, BATCH, model.head(), logits);
            }
            long bytes = alloc.bytes() - before;
            for (int i = 0; i < BATCH; i++) {
                sessions[i].cache().truncate(PROMPT + i);
            }
            return bytes / STEPS;
        }
    }
}
