package dev.interlayer.bench;

import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.Attention;
import dev.interlayer.nn.BlockConfig;
import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.KvCache;
import dev.interlayer.nn.NormPlacement;
import dev.interlayer.nn.RmsNorm;
import dev.interlayer.nn.RopeConfig;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.nn.moe.MoeConfig;
import dev.interlayer.nn.moe.MoeFeedForward;
import dev.interlayer.nn.moe.SharedExperts;
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
 * One Llama-style transformer block (PRE RMSNorm, GQA attention with RoPE, SwiGLU or Mixtral-style
 * MoE with 8 experts, top-2) at hidden 2048, 16 heads, 8 KV heads, FFN 5632, F32 or BF16 weights:
 * prefill of 128 tokens into an empty cache (every projection and expert one GEMM over the chunk),
 * and decode of one token against a 512-token cache that setup really prefilled (the benchmark
 * rolls the cache back to 512 with {@link KvCache#truncate} before each step). Peer:
 * reference/nn/bench_block.py (PyTorch eager, same shapes and threads).
 *
 * <p>Run (each about 1.5 minutes per thread count, on an idle machine):
 * {@code bench/jmh.sh BlockBench -p ffn=dense -p threads=1,2 -rf json -rff block-dense.json} (and
 * {@code -p ffn=moe}); the peer is {@code reference/nn/bench_block.py --threads N --ffn dense}, one
 * process per thread count.
 */
public class BlockBench extends LayerBenchmark {
    static final int D = 2048, HEADS = 16, KV_HEADS = 8, FFN = 5632, EXPERTS = 8, TOP_K = 2;
    static final int PREFILL = 128, CACHED = 512, CONTEXT = 1024;

    @Param({"F32", "BF16"})
    public String dtype;

    @Param({"dense", "moe"})
    public String ffn;

    @Param({"2"})
    public int threads;

    private TransformerBlock block;
    private KvCache cache;                     // shared by prefill and decode states
    private TransformerBlock.State prefillState; // calls of up to 128 tokens
    private TransformerBlock.State decodeState;  // calls of 1 token
    private Tensor prefillIn, prefillX; // [128, d]
    private Tensor decodeIn, decodeX;   // [1, d]
    // Each step runs on the compute pool as the models run theirs (ComputePool.run): one hand-off per step
    // instead of one per parallel kernel, and nothing allocated by the pool's external submissions.
    private final Runnable prefillStep = () -> block.forward(prefillX, prefillState);
    private final Runnable decodeStep = () -> block.forward(decodeX, decodeState);

    @Setup(Level.Trial)
    public void setup() {
        open(threads);
        SplittableRandom rng = new SplittableRandom(42);
        DType wt = DType.valueOf(dtype);
        AttentionConfig ac = AttentionConfig.builder(D, HEADS, CONTEXT).kvHeads(KV_HEADS)
                .rope(RopeConfig.of(10000)).build();
        Attention attn = new Attention(ac, linear(rng, wt, ac.qDim(), D), linear(rng, wt, ac.kvDim(), D),
                linear(rng, wt, ac.kvDim(), D), linear(rng, wt, D, ac.qDim()));
        FeedForward f;
        if (ffn.equals("moe")) {
            List<FeedForward> experts = new ArrayList<>();
            for (int e = 0; e < EXPERTS; e++) {
                experts.add(swiGlu(rng, wt, D, FFN));
            }
            f = new MoeFeedForward(new MoeConfig(D, EXPERTS, TOP_K, true, SharedExperts.NONE),
                    linear(rng, DType.F32, EXPERTS, D), experts, null, null);
        } else {
            f = swiGlu(rng, wt, D, FFN);
        }
        block = new TransformerBlock(BlockConfig.of(ac, NormPlacement.PRE), norm(), attn, null, norm(), f, null);
        cache = new KvCache(CONTEXT, ac.kvDim());
        prefillState = block.newState(cache, 0, PREFILL);
        decodeState = block.newState(cache, 0, 1);
        prefillIn = random(rng, DType.F32, 1.0f, PREFILL, D);
        prefillX = Tensor.zeros(PREFILL, D);
        decodeIn = random(rng, DType.F32, 1.0f, 1, D);
        decodeX = Tensor.zeros(1, D);
        // A real 512-token prefill (4 chunks of 128) so decode attends over keys/values the block produced.
        for (int c = 0; c < CACHED / PREFILL; c++) {
            prefillX.copyFrom(random(rng, DType.F32, 1.0f, PREFILL, D));
            block.forward(prefillX, prefillState);
            cache.advance(PREFILL);
        }
    }

    /** Prefill of 128 tokens into an empty cache. */
    @Benchmark
    public Tensor prefill128() {
        cache.reset();
        System.arraycopy(prefillIn.heapFloats(), 0, prefillX.heapFloats(), 0, PREFILL * D);
        ComputePool.run(prefillStep);
        cache.advance(PREFILL);
        return prefillX;
    }

    /** Decode of one token at position 512, after rolling the cache back to the 512 prefilled positions. */
    @Benchmark
    public Tensor decodeAt512() {
        cache.truncate(CACHED);
        System.arraycopy(decodeIn.heapFloats(), 0, decodeX.heapFloats(), 0, D);
        ComputePool.run(decodeStep);
        cache.advance(1);
        return decodeX;
    }

    private static RmsNorm norm() {
        float[] w = new float[D];
        java.util.Arrays.fill(w, 1f);
        return new RmsNorm(Tensor.wrap(w), 1e-5f);
    }
}
