package dev.interlayer.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.nn.moe.MoeConfig;
import dev.interlayer.nn.moe.MoeFeedForward;
import dev.interlayer.nn.moe.SharedExperts;
import dev.interlayer.tensor.ComputePool;
import dev.interlayer.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Heap bytes allocated per decode step of a two-layer decoder stack (Llama-style PRE blocks with
 * GQA + RoPE; dense SwiGLU or top-2 MoE), measured with the thread allocation counter on one
 * compute thread after warm-up.
 *
 * <p>The measurement runs in a fresh JVM ({@link Probe}) because escape analysis of the kernels'
 * short-lived objects depends on the JIT profile: in the shared Surefire JVM, after other tests
 * have run the scalar kernels and odd tensor layouts, the same loop allocated 7x more.
 */
class DecodeAllocationTest {
    /**
     * Allowed bytes per decode step. nn code allocates nothing per token (JFR allocation samples of
     * this loop have no nn frame on top); the bound covers what tensor kernels still allocate per call
     * (RowCursor objects and arrays, lambdas, Shape/stride arrays in MatMul and SimdKernels, the
     * rmsNorm weight row), measured at about 48 KB (dense) and 68 KB (MoE) per step for this stack.
     * Lower it to 0 when the tensor kernels are allocation-free.
     */
    static final long BOUND_BYTES = 96 * 1024;

    private static final int D = 64, HEADS = 4, KV_HEADS = 2, FFN = 96, CONTEXT = 256, PROMPT = 16, STEPS = 64;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"dense", "moe"})
    void decodeStepAllocatesAtMostBound(String ffn) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-modules") || arg.startsWith("--enable-native-access") || arg.startsWith("-X")) {
                cmd.add(arg);
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Probe.class.getName(), ffn));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "probe did not finish");
        assertEquals(0, p.exitValue(), "probe failed:\n" + output);
        Matcher m = Pattern.compile("bytesPerStep=(\\d+)").matcher(output);
        assertTrue(m.find(), "no measurement in probe output:\n" + output);
        long perStep = Long.parseLong(m.group(1));
        System.out.printf("decode allocation %-5s %d bytes/step (bound %d)%n", ffn, perStep, BOUND_BYTES);
        assertTrue(perStep <= BOUND_BYTES, "decode step allocated " + perStep + " bytes, bound " + BOUND_BYTES);
    }

    /** Runs in its own JVM: builds the stack, warms decode up, prints bytesPerStep=N. */
    static final class Probe {
        private Probe() {
        }

        public static void main(String[] args) {
            ComputePool.setThreads(1); // allocation counters are per thread: keep all work on this one
            var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            DecoderStack stack = stack(args[0].equals("moe"));
            StackSession s = stack.newSession(CONTEXT, PROMPT, false);
            int[] prompt = new int[PROMPT];
            for (int i = 0; i < PROMPT; i++) {
                prompt[i] = (7 * i + 3) % 50;
            }
            stack.forward(prompt, s);
            // Warm-up: JIT, lazily created views; roll back so every round decodes the same positions.
            for (int round = 0; round < 60; round++) {
                decodeSteps(stack, s);
                s.cache().truncate(PROMPT);
            }
            long tid = Thread.currentThread().threadId();
            long before = bean.getThreadAllocatedBytes(tid);
            decodeSteps(stack, s);
            System.out.println("bytesPerStep=" + (bean.getThreadAllocatedBytes(tid) - before) / STEPS);
        }
    }

    private static void decodeSteps(DecoderStack stack, StackSession s) {
        for (int i = 0; i < STEPS; i++) {
            stack.decode((11 * i + 5) % 50, s);
        }
    }
    private static DecoderStack stack(boolean moe) {
        RandomLayers r = new RandomLayers(0xA110CL);
        AttentionConfig ac = AttentionConfig.builder(D, HEADS, CONTEXT).kvHeads(KV_HEADS)
                .rope(RopeConfig.of(10000)).build();
        List<TransformerBlock> blocks = new ArrayList<>();
        for (int l = 0; l < 2; l++) {
            FeedForward f;
            if (moe) {
                List<FeedForward> experts = new ArrayList<>();
                for (int e = 0; e < 4; e++) {
                    experts.add(r.swiGlu(D, FFN));
                }
                f = new MoeFeedForward(new MoeConfig(D, 4, 2, true, SharedExperts.NONE), r.linear(4, D), experts,
                        null, null);
            } else {
                f = r.swiGlu(D, FFN);
            }
            blocks.add(r.block(BlockConfig.of(ac, NormPlacement.PRE), f));
        }
        Tensor table = r.gaussian(1.0, 0.0, 50, D);
        return new DecoderStack(new Embedding(table), null, null, blocks, r.rms(D));
    }
}
