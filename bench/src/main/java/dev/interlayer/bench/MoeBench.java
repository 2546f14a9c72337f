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
 * <ul>
 *   <li>{@code decodeMoe} vs {@code decodeDense}: one token. Target: MoE ≤ 1.3× dense (decode cost follows the
 *       active experts: only the 8 selected experts' weights are read).</li>
 *   <li>{@code prefillMoe} vs {@code prefillDense}: 256 tokens; the MoE groups each expert's ~32 tokens into
 *       one GEMM per weight matrix. Same FLOPs, so the time ratio is the inverse GFLOP/s ratio; GFLOP/s =
 *       256·100.7e6 / time. Target: MoE ≥ 0.8× the dense GEMM's GFLOP/s.</li>
 *   <li>{@code prefillExpertShapes}: the very GEMMs the grouped kernel runs (each active expert on its routed
 *       row count, inputs already contiguous) without routing, gather or scatter: {@code prefillMoe} against it
 *       isolates the cost of grouping; {@code prefillDense} against it is the cost of small-m GEMMs.</li>
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

    private RoutedMoe moe;
    private GatedMlp dense;
    private FeedForward.Scratch moeDecode, moePrefill, denseDecode, densePrefill;
    private Tensor x1, y1, xp, yp; // [1, d], [256, d]
    private final Runnable moeDecodeStep = () -> moe.forward(x1, y1, moeDecode);
    private final Runnable denseDecodeStep = () -> dense.forward(x1, y1, denseDecode);
    private final Runnable moePrefillStep = () -> moe.forward(xp, yp, moePrefill);
    private final Runnable densePrefillStep = () -> dense.forward(xp, yp, densePrefill);
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
        moeDecode = moe.newScratch(1);
        moePrefill = moe.newScratch(PREFILL);
        denseDecode = dense.newScratch(1);
        densePrefill = dense.newScratch(PREFILL);
        x1 = random(rng, DType.F32, 1f, 1, D);
        y1 = Tensor.zeros(1, D);
        xp = random(rng, DType.F32, 1f, PREFILL, D);
        yp = Tensor.zeros(PREFILL, D);
        // the row count each expert receives for xp, from one routed call
        RoutedMoe.State st = (RoutedMoe.State) moePrefill;
        moe.forward(xp, yp, st);
        expertScratch = experts.get(0).newScratch(PREFILL);
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

    /** One token through 64-expert top-8 MoE. */
    @Benchmark
    public Tensor decodeMoe() {
        ComputePool.run(moeDecodeStep);
        return y1;
    }

    /** One token through the dense SwiGLU of width 8·f. */
    @Benchmark
    public Tensor decodeDense() {
        ComputePool.run(denseDecodeStep);
        return y1;
    }

    /** 256 tokens through the MoE, grouped per expert. */
    @Benchmark
    public Tensor prefillMoe() {
        ComputePool.run(moePrefillStep);
        return yp;
    }

    /** 256 tokens through the dense SwiGLU of width 8·f (same FLOPs). */
    @Benchmark
    public Tensor prefillDense() {
        ComputePool.run(densePrefillStep);
        return yp;
    }

    /** The grouped kernel's per-expert GEMMs alone (same shapes, no routing/gather/scatter). */
    @Benchmark
    public Tensor[] prefillExpertShapes() {
        ComputePool.run(expertShapesStep);
        return groupOut;
    }
}
