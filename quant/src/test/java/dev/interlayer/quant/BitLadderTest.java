package dev.interlayer.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.testing.Tries;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link BitLadder} on synthetic ladders: layers of random sizes, formats of 8.5 … 3 bits per weight, costs that
 * grow as bits fall (convex in the bits for the optimality check), the metric an additive sum of the chosen costs
 * (monotone along the path). Bit counts are sums of integers times halves, exact in double, so bit budgets are
 * compared exactly.
 */
class BitLadderTest {
    private static final double[] BPW = {8.5, 5.5, 4.5, 3.5, 3.0};

    /** A ladder: bits[l][f] = weights_l · BPW[f], cost convex and decreasing in bits (0 at format 0). */
    private record Ladder(double[][] cost, double[][] bits) {
        /** minLayers + U[0, spread) layers; with holes, about a third of them lack the 3.5-bit rung. */
        static Ladder random(SplittableRandom r, int minLayers, int spread, boolean holes) {
            int layers = minLayers + r.nextInt(spread);
            double[][] bits = new double[layers][BPW.length], cost = new double[layers][BPW.length];
            for (int l = 0; l < layers; l++) {
                int w = 64 * (1 + r.nextInt(4));
                double s = 0.1 + r.nextDouble();
                for (int f = 0; f < BPW.length; f++) {
                    bits[l][f] = w * BPW[f];
                    cost[l][f] = s * w * Math.pow(2, -2 * BPW[f]) * 1e3;   // MSE-like: 4^-bits, convex in bits
                }
                if (holes && r.nextInt(3) == 0) {
                    bits[l][3] = Double.NaN;                                 // the 3.5-bit rung does not fit this layer
                    cost[l][3] = Double.NaN;
                }
            }
            return new Ladder(cost, bits);
        }

        int layers() {
            return cost.length;
        }

        List<int[]> path() {
            return BitLadder.path(cost, bits);
        }

        /** Σ_l bits[l][f[l]]. */
        double bitsOf(int[] f) {
            return BitLadder.totalBits(bits, f);
        }

        /** Σ_l cost[l][f[l]]. */
        double costOf(int[] f) {
            return BitLadder.totalBits(cost, f);
        }
    }

    @Test
    void pathStartsHighLowersBitsEveryStepAndEndsAtTheFewestBits() {
        Tries.run(20, 100, (t, r) -> {
            Ladder in = Ladder.random(r, 1, 12, t % 2 == 1);
            List<int[]> path = in.path();
            assertEquals(0, java.util.Arrays.stream(path.get(0)).sum(), "starts with every layer at format 0");
            for (int i = 1; i < path.size(); i++) {
                assertTrue(in.bitsOf(path.get(i)) < in.bitsOf(path.get(i - 1)), "try " + t + ": step " + i);
                int changed = 0;
                for (int l = 0; l < in.layers(); l++) {
                    changed += path.get(i)[l] != path.get(i - 1)[l] ? 1 : 0;
                    assertTrue(!Double.isNaN(in.bits[l][path.get(i)[l]]), "try " + t + ": a format that does not fit");
                }
                assertEquals(1, changed, "one layer per step");
            }
            int[] last = path.get(path.size() - 1);
            for (int l = 0; l < in.layers(); l++) {
                assertEquals(4, last[l], "try " + t + ": the last point has every layer at the fewest bits");
            }
        });
    }

    @Test
    void everyPathPointIsOptimalForItsOwnBitsWhenCostsAreConvex() {
        // Lagrangian argument: each point minimises cost + λ·bits for some λ, so no assignment with at most its bits
        // costs less. Checked against all 5^layers assignments.
        Tries.run(10, 200, (t, r) -> {
            Ladder in = Ladder.random(r, 2, 3, false);
            int layers = in.layers();
            for (int[] p : in.path()) {
                double b = in.bitsOf(p), c = in.costOf(p);
                int[] f = new int[layers];
                for (int code = 0; code < Math.pow(5, layers); code++) {
                    for (int l = 0, x = code; l < layers; l++, x /= 5) {
                        f[l] = x % 5;
                    }
                    if (in.bitsOf(f) <= b) {
                        assertTrue(in.costOf(f) >= c - 1e-12 * Math.max(1, c), "try " + t + ": a cheaper assignment");
                    }
                }
            }
        });
    }

    @Test
    void atBitsMeetsTheBudgetExactlyAndSpendsWhatIsLeft() {
        for (int t = 0; t < 30; t++) {
            var r = new SplittableRandom(300 + t);
            Ladder in = Ladder.random(r, 1, 20, t % 3 == 0);
            double[][] cost = in.cost, bits = in.bits;
            double weights = 0;
            for (double[] b : bits) {
                weights += b[0] / 8.5;
            }
            double bpw = 3.0 + 5.5 * r.nextDouble();
            BitLadder.Choice c = BitLadder.atBits(cost, bits, bpw * weights);
            assertEquals(in.bitsOf(c.formats()), c.bits(), 0.0, "reported bits = Σ of the chosen formats' bits");
            assertTrue(c.bitsPerWeight(weights) <= bpw, "try " + t + ": " + c.bitsPerWeight(weights) + " > " + bpw);
            // no first-path point within the budget is cheaper, and no single upgrade still fits and helps
            for (int[] p : in.path()) {
                if (in.bitsOf(p) <= bpw * weights) {
                    assertTrue(in.costOf(c.formats()) <= in.costOf(p), "try " + t + ": worse than the path point");
                    break;
                }
            }
            for (int l = 0; l < in.layers(); l++) {
                for (int g = 0; g < BPW.length; g++) {
                    double extra = bits[l][g] - bits[l][c.formats()[l]];
                    if (!Double.isNaN(extra) && extra > 0 && c.bits() + extra <= bpw * weights) {
                        assertTrue(cost[l][g] >= cost[l][c.formats()[l]], "try " + t + ": an upgrade still fits");
                    }
                }
            }
        }
        double[][] cost = {{0, 1}}, bits = {{8.5 * 32, 4.5 * 32}};
        var e = assertThrows(IllegalArgumentException.class, () -> BitLadder.atBits(cost, bits, 4.0 * 32));
        assertTrue(e.getMessage().contains("below the fewest"), e.getMessage());
    }

    @Test
    void atBoundIsTheLowestPathPointWithinTheBoundInFewEvaluations() {
        Tries.run(30, 400, (t, r) -> {
            Ladder in = Ladder.random(r, 1, 30, t % 2 == 0);
            MixedPrecision.Evaluator additive = in::costOf;           // grows at every step of the path
            List<int[]> path = in.path();
            double bound = r.nextDouble() * in.costOf(path.get(path.size() - 1)) * 1.2;
            BitLadder.Choice c = BitLadder.atBound(in.cost, in.bits, bound, additive);
            assertEquals(in.costOf(c.formats()), c.metric(), 0.0, "the reported metric is the chosen point's");
            int k = -1;
            for (int i = 0; i < path.size(); i++) {
                if (java.util.Arrays.equals(path.get(i), c.formats())) {
                    k = i;
                }
            }
            assertTrue(k >= 0, "try " + t + ": the choice is a point of the path");
            assertTrue(c.metric() <= bound || k == 0, "try " + t + ": metric " + c.metric() + " > bound " + bound);
            if (k + 1 < path.size()) {
                assertTrue(additive.metric(path.get(k + 1)) > bound, "try " + t + ": the next point also fits");
            }
            int steps = path.size() - 1;
            int maxEvals = 32 - Integer.numberOfLeadingZeros(Math.max(1, steps - 1)) + 2;
            assertTrue(c.evaluations() <= maxEvals, "try " + t + ": " + c.evaluations() + " evaluations > " + maxEvals);
        });
    }

    @Test
    void refusesShapesThatDifferAndALayerWithoutFormatZero() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> BitLadder.path(new double[][] {{0, 1}}, new double[][] {{1, 2}, {1, 2}}));
        assertTrue(e.getMessage().contains("cost has 1 layers, bits 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BitLadder.path(new double[][] {{0, 1}}, new double[][] {{Double.NaN, 2}}));
        assertTrue(e.getMessage().contains("format 0"), e.getMessage());
    }
}
