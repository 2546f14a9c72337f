package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.nn.plan.ExecutionPlan;
import dev.interlayer.nn.plan.OutputHead;
import dev.interlayer.nn.plan.PlannedStack;
import dev.interlayer.nn.plan.SelfSpeculativeDecoder;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Heap bytes allocated per emitted token by greedy self-speculative decoding (draft E = 2 of 3 layers, n = 4),
 * measured with the thread allocation counter in a fresh JVM after warm-up, as {@link DecodeAllocationTest} does
 * for plain decode (same bound, same reasons). One generate call also allocates a fixed amount (the output array,
 * the prompt copy, the result: about 1 KB, 13 B/token) which the bound absorbs; a leaked view, lambda or buffer per
 * draft or verify call would exceed it.
 *
 * <p>The last layer's output projections are zero, so it adds exactly 0 and every draft is accepted: each of the 13
 * rounds of a 65-token call drafts 4 tokens and verifies 5 rows. Why fixed shapes: with a random stack the
 * verify calls have 1..5 rows by acceptance, and a row count that occurs once per call (2 rows, for example) keeps
 * its kernel tile code below C2 in about half of the JVMs, where the Vector API then boxes ~6 KB per call (that is
 * JIT warm-up of a cold shape, not an allocation of the decoder; it stayed at 3.7 KB/token after 30 s).
 */
class SelfSpeculativeAllocationTest {
    private static final int D = 64, VOCAB = 50, CONTEXT = 256, PROMPT = 16, TOKENS = 65;

    @Test
    void speculativeDecodeAllocatesAtMostBoundPerToken() throws Exception {
        long perToken = ChildJvm.measure(Probe.class, "bytesPerToken", "self-speculative allocation");
        System.out.printf("self-speculative allocation %d bytes/token (bound %d)%n", perToken,
                ThreadAllocation.BOUND_BYTES);
        assertTrue(perToken <= ThreadAllocation.BOUND_BYTES, "self-speculative decoding allocated " + perToken
                + " bytes per token");
    }

    /** Runs in its own JVM: builds a 3-layer stack, warms generate up, prints bytesPerToken=N. */
    static final class Probe {
        private Probe() {
        }

        public static void main(String[] args) {
            ThreadAllocation alloc = ThreadAllocation.onThisThread();
            RandomLayers r = new RandomLayers(0x5BEC);
            AttentionConfig ac = AttentionConfig.builder(D, 4, CONTEXT).kvHeads(2).rope(RopeConfig.of(10000)).build();
            List<TransformerBlock> blocks = new ArrayList<>();
            for (int l = 0; l < 2; l++) {
                blocks.add(r.block(BlockConfig.of(ac, NormPlacement.PRE), r.swiGlu(D, 96)));
            }
            Attention quiet = new Attention(ac, r.linear(ac.qDim(), D), r.linear(ac.kvDim(), D),
                    r.linear(ac.kvDim(), D), new Linear(Tensor.zeros(D, ac.qDim())));   // Wo = 0
            blocks.add(new TransformerBlock(BlockConfig.of(ac, NormPlacement.PRE), r.rms(D), quiet, null, r.rms(D),
                    GatedMlp.swiGlu(r.linear(96, D), r.linear(96, D), new Linear(Tensor.zeros(D, 96))), null));
            DecoderStack stack = new DecoderStack(new Embedding(r.gaussian(1.0, 0.0, VOCAB, D)), null, null, blocks,
                    r.rms(D));
            var dec = new SelfSpeculativeDecoder(new PlannedStack(stack, ExecutionPlan.identity(3)),
                    new OutputHead(r.linear(VOCAB, D)), 2, 4, CONTEXT, PROMPT);
            int[] prompt = new int[PROMPT];
            for (int i = 0; i < PROMPT; i++) {
                prompt[i] = (7 * i + 3) % VOCAB;
            }
            ThreadAllocation.warmUp(() -> bytesPerToken(dec, prompt, alloc), TOKENS, "token", false);
            SelfSpeculativeDecoder.Result check = dec.generate(prompt, TOKENS, -1);
            if (check.rounds() != 13 || check.accepted() != 52) {
                throw new AssertionError("expected 13 rounds of 4 accepted drafts, got " + check.rounds() + " rounds, "
                        + check.accepted() + " accepted");
            }
            ThreadAllocation.printMedian(() -> bytesPerToken(dec, prompt, alloc), "bytesPerToken");
        }

        private static long bytesPerToken(SelfSpeculativeDecoder dec, int[] prompt, ThreadAllocation alloc) {
            long before = alloc.bytes();
            int n = dec.generate(prompt, TOKENS, -1).tokens().length;
            return (alloc.bytes() - before) / n;
        }
    }
}
