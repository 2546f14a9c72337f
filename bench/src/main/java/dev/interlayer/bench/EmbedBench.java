package dev.interlayer.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.interlayer.models.embed.EmbeddingModel;
import dev.interlayer.tensor.ComputePool;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * all-MiniLM-L6-v2 sentence embeddings: Interlayer's pure-Java BERT next to ONNX Runtime (Java API,
 * CPU provider, same thread count) on the same ONNX file and the same token ids. Tokenization is
 * excluded from both; both include pooling and normalisation (ORT's last_hidden_state is pooled in
 * Java, which costs microseconds).
 *
 * <p>Score is batches per second; sentences per second = score × batch. {@code short} inputs are
 * 8–14 tokens, {@code passage} inputs are truncated to the model's 128 tokens.
 *
 * <p>Run (short iterations, as for the numbers in the embed report):
 * {@code bench/jmh.sh EmbedBench -p kind=short -p batch=1,32 -wi 2 -w 2s -i 3 -r 2s -rf json -rff embed.json}.
 */
@State(Scope.Benchmark)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
public class EmbedBench extends ThroughputBenchmark {
    static final String[] SHORT = {
        "The cat sits on the mat.", "A kitten is resting on a rug.",
        "Stock markets fell sharply after the announcement.", "Investors sold shares as prices dropped.",
        "How do I bake sourdough bread at home?", "The weather today is sunny with a light breeze.",
        "Deep learning models require large amounts of data.", "It is raining cats and dogs outside."};
    static final String PASSAGE = "The quick brown fox jumps over the lazy dog near the riverbank while children "
            + "play football in the park, and an old man feeds pigeons with breadcrumbs from a paper bag. ";

    @Param({"1", "32"})
    int batch;

    @Param({"short", "passage"})
    String kind;

    /** Threads for both engines: Interlayer's ComputePool and ONNX Runtime's intra-op pool. */
    @Param({"2"})
    int threads;

    EmbeddingModel model;
    List<int[]> ids;
    OrtEnvironment env;
    OrtSession session;

    @Setup
    public void setup() throws Exception {
        ComputePool.setThreads(threads);
        model = EmbeddingModel.defaultModel();
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            texts.add(kind.equals("short") ? SHORT[i % SHORT.length] : (i + " " + PASSAGE).repeat(4));
        }
        ids = texts.stream().map(model::tokenIds).toList();
        env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setIntraOpNumThreads(threads);
        o.setInterOpNumThreads(1);
        session = env.createSession(EmbeddingModel.defaultOnnxPath().toString(), o);
    }

    @TearDown
    public void tearDown() throws Exception {
        session.close();
        model.close();
    }

    @Benchmark
    public List<float[]> interlayer() {
        return model.embedTokenIds(ids);
    }

    @Benchmark
    public float[][] onnxRuntime() throws OrtException {
        int t = ids.stream().mapToInt(a -> a.length).max().orElse(0);
        long[][] in = new long[ids.size()][t], mask = new long[ids.size()][t], types = new long[ids.size()][t];
        for (int b = 0; b < ids.size(); b++) {
            for (int i = 0; i < ids.get(b).length; i++) {
                in[b][i] = ids.get(b)[i];
                mask[b][i] = 1;
            }
        }
        try (OnnxTensor a = OnnxTensor.createTensor(env, in); OnnxTensor m = OnnxTensor.createTensor(env, mask);
             OnnxTensor ty = OnnxTensor.createTensor(env, types);
             OrtSession.Result r = session.run(Map.of("input_ids", a, "attention_mask", m, "token_type_ids", ty))) {
            float[][][] h = (float[][][]) r.get(0).getValue();
            float[][] out = new float[h.length][];
            for (int b = 0; b < h.length; b++) {
                int len = ids.get(b).length;
                float[] e = new float[h[b][0].length];
                for (int i = 0; i < len; i++) {
                    for (int c = 0; c < e.length; c++) {
                        e[c] += h[b][i][c] / len;
                    }
                }
                double n = 0;
                for (float v : e) {
                    n += v * v;
                }
                for (int c = 0; c < e.length; c++) {
                    e[c] /= (float) Math.max(Math.sqrt(n), 1e-12);
                }
                out[b] = e;
            }
            return out;
        }
    }
}
