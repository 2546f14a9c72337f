package dev.interlayer.bench;

import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.GatedMlp;
import dev.interlayer.nn.moe.RoutedMoe;
import dev.interlayer.nn.moe.TopKRouter;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Sparse MoE execution ({@link RoutedMoe}: router, grouped experts) against a dense SwiGLU FFN of the same
 * active width, OLMoE-like shapes: d = 2048, 64 experts of width f = 1024, top-8 (softmax, renormalized);
 * the dense FFN has width 8·1024 = 8192, so both do the same expert FLOPs per token,
 * 2·3·d·(k·f) = 100.7 MFLOP (+ 2·d·E = 0.26 MFLOP for the router).
 * The phase parameter is the call's size: {@code decode} one token, {@code prefill} 256 tokens.
 * <ul>
 *   <li>{@code moe} vs {@code dense} at {@code phase=decode}. Target: MoE ≤ 1.3× dense (decode cost follows the
 *       active experts: only the 8 selected experts' weights are read).</li>
 *   <li>{@code moe} vs {@code dense} at {@code phase=prefill}: the MoE groups each expert's ~32 tokens into one GEMM
 *       per weight matrix. Same FLOPs, so the time ratio is the inverse GFLOP/s ratio; GFLOP/s = 256·100.7e6 /
 *       time. Target: MoE ≥ 0.8× the dense GEMM's GFLOP/s.</li>
 *   <li>{@code expertShapes}: the very products the grouped kernel runs for the phase's input (each active expert on
 *       its routed row count, inputs already contiguous) without routing, gather or scatter: {@code moe} against it
 *       isolates the cost of grouping; {@code dense} against it is the cost of small-m GEMMs.</li>
 * </ul>
 * Weights in a native arena (like a mapped checkpoint), F32 or BF16; the F32 expert weights take 1.6 GB.
 *
 * <p>Run on an idle machine (about 4 minutes):
 * {@code bench/jmh.sh MoeBench -p threads=1,2 -rf json -rff moe.json}
 */
public class MoeBench extends LayerBenchmark {
    static final int D = 2048, EXPERTS = 64, TOP_K = 8, PREFILL = 256;

    @Param({"F32", "BF16"})
    public String dtype;

    @Param({"1024"})
    public int expertWidth;

    @Param({"2"})
    public int threads;

    @Param({"decode", "prefill"})
    public String phase;

    private RoutedMoe moe;
    private GatedMlp dense;
    private FeedForward.Scratch moeScratch, denseScratch;
    private Tensor x, y; // [T, d], T = 1 (decode) or 256 (prefill)
    private final Runnable moeStep = () -> moe.forward(x, y, moeScratch);
    private final Runnable denseStep = () -> dense.forward(x, y, denseScratch);
    private List<FeedForward> experts;
    private Tensor[] groupIn, groupOut; // per expert [n_e, d] (null when n_e = 0)
    private FeedForward.Scratch expertScratch;
    private final Runnable expertShapesStep = this::runExpertShapes;

    @Setup(Level.Trial)
    public void setup() {
        open(threads);
        SplittableRandom rng = new SplittableRandom(7);
        DType wt = DType.valueOf(dtype);
        experts = new ArrayList<>();
        for (int e = 0; e < EXPERTS; e++) {
            experts.add(swiGlu(rng, wt, D, expertWidth));
        }
        moe = new RoutedMoe(TopKRouter.softmax(linear(rng, DType.F32, EXPERTS, D), TOP_K, true), experts,
                RoutedMoe.Combine.WEIGHTED_SUM);
        dense = swiGlu(rng, wt, D, TOP_K * expertWidth);
        int tokens = switch (phase) {
            case "decode" -> 1;
            case "prefill" -> PREFILL;
            default -> throw new IllegalArgumentException("phase is decode or prefill, got " + phase);
        };
        moeScratch = moe.newScratch(tokens);
        denseScratch = dense.newScratch(tokens);
        // both inputs are drawn in every phase, so that each phase sees the same weights and input as the other's
        Tensor x1 = random(rng, DType.F32, 1f, 1, D);
        Tensor xp = random(rng, DType.F32, 1f, PREFILL, D);
        x = tokens == 1 ? x1 : xp;
        y = Tensor.zeros(tokens, D);
        // the row count each expert receives for x, from one routed call
        RoutedMoe.State st = (RoutedMoe.State) moeScratch;
        moe.forward(x, y, st);
        expertScratch = experts.get(0).newScratch(tokens);
        groupIn = new Tensor[EXPERTS];
        groupOut = new Tensor[EXPERTS];
        for (int e = 0; e < EXPERTS; e++) {
            int n = st.stats().tokensFor(e);
            if (n > 0) {
                groupIn[e] = random(rng, DType.F32, 1f, n, D);
                groupOut[e] = Tensor.zeros(n, D);
            }
        }
    }

    private void runExpertShapes() {
        for (int e = 0; e < EXPERTS; e++) {
            if (groupIn[e] != null) {
                experts.get(e).forward(groupIn[e], groupOut[e], expertScratch);
            }
        }
    }

    /** The phase's tokens through the 64-expert top-8 MoE, grouped per expert. */
    @Benchmark
    public Tensor moe() {
        ComputePool.run(moeStep);
        return y;
    }

    /** The phase's tokens through the dense SwiGLU of width 8·f (same FLOPs). */
    @Benchmark
    public Tensor dense() {
        ComputePool.run(denseStep);
        return y;
    }

    /** The grouped kernel's per-expert products alone (same shapes, no routing/gather/scatter). */
    @Benchmark
    public Tensor[] expertShapes() {
        ComputePool.run(expertShapesStep);
        return groupOut;
    }
}
