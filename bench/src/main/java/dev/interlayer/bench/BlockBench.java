package dev.interlayer.bench;

import dev.interlayer.nn.AttentionConfig;
import dev.interlayer.nn.Attention;
import dev.interlayer.nn.BlockConfig;
import dev.interlayer.nn.FeedForward;
import dev.interlayer.nn.GatedMlp;
import dev.interlayer.nn.KvCache;
import dev.interlayer.nn.Linear;
import dev.interlayer.nn.NormPlacement;
import dev.interlayer.nn.RmsNorm;
import dev.interlayer.nn.RopeConfig;
import dev.interlayer.nn.TransformerBlock;
import dev.interlayer.nn.moe.MoeConfig;
import dev.interlayer.nn.moe.MoeFeedForward;
import dev.interlayer.nn.moe.SharedExperts;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One Llama-style transformer block (PRE RMSNorm, GQA attention with RoPE, SwiGLU or Mixtral-style
 * MoE) at hidden 2048, 16 heads, 8 KV heads, FFN 5632: prefill of 128 tokens, and decode of one token
 * against a 512-token cache. Peer: reference/nn/bench_block.py (PyTorch, same shapes and threads).
 *
 * <p>The decode cache is filled with random keys/values (decode cost does not depend on their
 * values) so setup does not have to run a 512-token prefill. Run with e.g.
 * {@code java -jar bench/target/benchmarks.jar BlockBench -p threads=2 -rf json}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
    "-Xmx8g"})
public class BlockBench {
    static final int D = 2048, HEADS = 16, KV_HEADS = 8, FFN = 5632, EXPERTS = 8, TOP_K = 2;
    static final int PREFILL = 128, CACHED = 512, CONTEXT = 1024;

    @Param({"F32", "BF16"})
    public String dtype;

    @Param({"dense", "moe"})
    public String ffn;

    @Param({"2"})
    public int threads;

    private TransformerBlock block;
    private KvCache cache;
    private TransformerBlock.State state;
    private Tensor prefillIn, prefillX; // [128, d]
    private Tensor decodeIn, decodeX;   // [1, d]
    private TransformerBlock.State decodeState;
    private KvCache decodeCache;

    @Setup(Level.Trial)
    public void setup() {
        ComputePool.setThreads(threads);
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
                experts.add(swiGlu(rng, wt));
            }
            f = new MoeFeedForward(new MoeConfig(D, EXPERTS, TOP_K, true, SharedExperts.NONE),
                    linear(rng, DType.F32, EXPERTS, D), experts, null, null);
        } else {
            f = swiGlu(rng, wt);
        }
        block = new TransformerBlock(BlockConfig.of(ac, NormPlacement.PRE), norm(), attn, null, norm(), f, null);
        cache = new KvCache(CONTEXT, ac.kvDim());
        state = block.newState(cache, 0, PREFILL);
        prefillIn = random(rng, DType.F32, 1.0f, PREFILL, D);
        prefillX = Tensor.zeros(PREFILL, D);

        decodeCache = new KvCache(CONTEXT, ac.kvDim());
        fill(rng, decodeCache.keys(0), CACHED * ac.kvDim());
        fill(rng, decodeCache.values(0), CACHED * ac.kvDim());
        decodeCache.advance(CACHED);
        decodeState = block.newState(decodeCache, 0, 1);
        decodeIn = random(rng, DType.F32, 1.0f, 1, D);
        decodeX = Tensor.zeros(1, D);
    }

    /** Prefill of 128 tokens into an empty cache. */
    @Benchmark
    public Tensor prefill128() {
        cache.reset();
        prefillX.copyFrom(prefillIn);
        block.forward(prefillX, state);
        return prefillX;
    }

    /** Decode of one token at position 512 (a block never advances the cache, so every call sees 512). */
    @Benchmark
    public Tensor decodeAt512() {
        decodeX.copyFrom(decodeIn);
        block.forward(decodeX, decodeState);
        return decodeX;
    }

    private static GatedMlp swiGlu(SplittableRandom rng, DType wt) {
        return GatedMlp.swiGlu(linear(rng, wt, FFN, D), linear(rng, wt, FFN, D), linear(rng, wt, D, FFN));
    }

    private static RmsNorm norm() {
        float[] w = new float[D];
        java.util.Arrays.fill(w, 1f);
        return new RmsNorm(Tensor.wrap(w), 1e-5f);
    }

    private static Linear linear(SplittableRandom rng, DType wt, int out, int in) {
        return new Linear(random(rng, wt, (float) (1.0 / Math.sqrt(in)), out, in));
    }

    private static Tensor random(SplittableRandom rng, DType dtype, float scale, int... dims) {
        Tensor t = Tensor.zeros(dtype, Shape.of(dims));
        long n = t.size();
        for (long i = 0; i < n; i++) {
            t.writeFloat(i, (float) ((rng.nextDouble() * 2 - 1) * scale * Math.sqrt(3)));
        }
        return t;
    }

    private static void fill(SplittableRandom rng, float[] a, int n) {
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rng.nextDouble() * 2 - 1);
        }
    }
}
