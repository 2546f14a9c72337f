package dev.interlayer.nn;

import static dev.interlayer.nn.ThreadAllocation.BOUND_BYTES;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Heap bytes allocated per decode step of a two-layer decoder stack (Llama-style PRE blocks with
 * GQA + RoPE; dense SwiGLU or top-2 MoE; or "ring": a window-8 local layer whose KV ring of 8 + 16 rows
 * wraps about three times per 64 steps, then a global layer, decoded at implicit positions or, for
 * "ring-explicit", at gapped explicit positions through {@code decode(token, position, s)}; "ring-f16" and
 * "ring-q8_0": the ring stack with head dim 32 and its KV cache stored in F16 or Q8_0), measured with the thread
 * allocation counter on one
 * compute thread once the JIT has compiled the decode path.
 *
 * <p>Until C2 compiles them, Vector API calls box their vectors on the heap (about 1 MB per step in
 * the first round, still 25 KB after 60 rounds), so the probe warms up in rounds of 64 steps until
 * a round allocates nothing or allocation has settled within the bound (bounded by a deadline), then
 * asserts on a separate measured round, as LlamaDecodeAllocationTest does. The measurement runs in a
 * fresh JVM ({@link Probe}) because escape analysis of the kernels' short-lived objects depends on the
 * JIT profile: in the shared Surefire JVM, after other tests have run the scalar kernels and odd
 * tensor layouts, the same loop allocated 7x more.
 */
class DecodeAllocationTest {
    private static final int D = 64, HEADS = 4, KV_HEADS = 2, FFN = 96, CONTEXT = 256, PROMPT = 16, STEPS = 64;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"dense", "moe", "ring", "ring-explicit", "ring-f16", "ring-q8_0"})
    void decodeStepAllocatesAtMostBound(String ffn) throws Exception {
        ChildJvm.Measured perStep = ChildJvm.measured(Probe.class, "bytesPerStep", ffn);
        System.out.printf("decode allocation %-5s %d bytes/step (bound %d) %s%n", ffn, perStep.value(), BOUND_BYTES,
                perStep.warmUp());
        assertTrue(perStep.value() <= BOUND_BYTES, "decode step allocated " + perStep.value() + " bytes, bound "
                + BOUND_BYTES + "; probe output:\n" + perStep.output());
    }

    /** Runs in its own JVM: builds the stack, warms decode up, prints bytesPerStep=N. */
    static final class Probe {
        private Probe() {
        }

        public static void main(String[] args) {
            ThreadAllocation alloc = ThreadAllocation.onThisThread();
            String variant = args[0];
            KvType kv = variant.endsWith("f16") ? KvType.F16 : variant.endsWith("q8_0") ? KvType.Q8_0 : KvType.F32;
            DecoderStack stack = stack(variant.equals("moe"), variant.startsWith("ring"), kv);
            StackSession s = stack.newSession(CONTEXT, PROMPT, false, kv);
            if (variant.startsWith("ring") && (!s.cache().isRing(0) || s.cache().rows(0) != 8 + PROMPT)) {
                throw new AssertionError("layer 0 should keep a ring of " + (8 + PROMPT) + " rows");
            }
            boolean explicit = variant.equals("ring-explicit");
            int[] prompt = new int[PROMPT], promptPos = new int[PROMPT];
            for (int i = 0; i < PROMPT; i++) {
                prompt[i] = (7 * i + 3) % 50;
                promptPos[i] = position(i);
            }
            // a ring cannot roll back 64 steps: rewind by reset + prefill (outside the measured window)
            Runnable rewind = variant.startsWith("ring") ? () -> {
                s.cache().reset();
                stack.forward(prompt, explicit ? promptPos : null, s);
            } : () -> s.cache().truncate(PROMPT);
            s.cache().reset();
            stack.forward(prompt, explicit ? promptPos : null, s);
            // Warm-up rounds (JIT, lazily created views); each round rolls the cache back so every round
            // decodes the same positions.
            ThreadAllocation.warmUp(() -> bytesPerStep(stack, s, alloc, explicit, rewind), STEPS, "step", true);
            ThreadAllocation.printMedian(() -> bytesPerStep(stack, s, alloc, explicit, rewind), "bytesPerStep");
        }

        private static long bytesPerStep(DecoderStack stack, StackSession s, ThreadAllocation alloc,
                                         boolean explicit, Runnable rewind) {
            long before = alloc.bytes();
            decodeSteps(stack, s, explicit);
            long bytes = alloc.bytes() - before;
            rewind.run();
            return bytes / STEPS;
        }
    }

    // Gapped increasing positions for the explicit variant: 3, 5, 7, ... (below CONTEXT for PROMPT + STEPS).
    private static int position(int i) {
        return 3 + 2 * i;
    }

    private static void decodeSteps(DecoderStack stack, StackSession s, boolean explicit) {
        for (int i = 0; i < STEPS; i++) {
            if (explicit) {
                stack.decode((11 * i + 5) % 50, position(PROMPT + i), s);
            } else {
                stack.decode((11 * i + 5) % 50, s);
            }
        }
    }

    // kv != F32: head dim 32 (whole Q8_0 blocks) instead of D / HEADS = 16
    private static DecoderStack stack(boolean moe, boolean ring, KvType kv) {
        RandomLayers r = new RandomLayers(0xA110CL);
        AttentionConfig global = AttentionConfig.builder(D, HEADS, CONTEXT).kvHeads(KV_HEADS)
                .headDim(kv == KvType.F32 ? D / HEADS : 32).rope(RopeConfig.of(10000)).build();
        List<TransformerBlock> blocks = new ArrayList<>();
        for (int l = 0; l < 2; l++) {
            AttentionConfig ac = ring && l == 0 ? global.toBuilder().window(8).build() : global;
            FeedForward f;
            if (moe) {
                f = r.topTwoOfFourSwiGlu(D, FFN);
            } else {
                f = r.swiGlu(D, FFN);
            }
            blocks.add(r.block(BlockConfig.of(ac, NormPlacement.PRE), f));
        }
        Tensor table = r.gaussian(1.0, 0.0, 50, D);
        return new DecoderStack(new Embedding(table), null, null, blocks, r.rms(D));
    }
}
