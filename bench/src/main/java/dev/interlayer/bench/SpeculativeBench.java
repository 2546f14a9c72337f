package dev.interlayer.bench;

import dev.interlayer.models.cli.Flags;
import dev.interlayer.models.cli.ModelInput;
import dev.interlayer.models.generate.Sampler;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.tokenizer.Tokenizer;
import dev.interlayer.nn.plan.ExecutionPlan;
import dev.interlayer.nn.plan.PlannedStack;
import dev.interlayer.nn.plan.SelfSpeculativeDecoder;
import dev.interlayer.tensor.ComputePool;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./interlayer bench speculative}: self-speculative decoding (LayerSkip) against normal greedy decoding of
 * the same model, side by side in one process. Each round runs, back to back, normal decoding (the engine's
 * {@link DecoderLM.Session}: chunked prefill, then one decode step per token) and then the self-speculative decoder
 * for every (draft depth E, speculations n); every run prefills the same prompt and emits the same number of
 * tokens, and both timings include the prefill. Rounds interleave the configurations so that a load change on a
 * shared machine hits all of them alike; the report gives per configuration the acceptance rate, the tokens/s
 * range over the rounds and the range of the per-round ratio speculative / normal, by wall time (tokens/s) and by
 * process CPU time (normal CPU seconds / speculative CPU seconds for the same tokens: less sensitive to the share
 * of the machine the process got, as long as the work is the same kind). Every speculative output is checked to
 * equal the normal greedy output token for token.
 */
@Command(name = "speculative", mixinStandardHelpOptions = true,
        description = "Self-speculative (--draft-layers) vs normal greedy decode tokens/s, side by side.")
public final class SpeculativeBench implements BenchSubcommand, Callable<Integer> {
    @Option(names = "--model", required = true, description = "GGUF model file or Hugging Face folder (decoder LM).")
    Path model;

    @Option(names = "--prompt", defaultValue = "Once upon a time, there was a little girl",
            description = "Prompt text (default \"${DEFAULT-VALUE}\").")
    String prompt;

    @Option(names = "--gen-tokens", defaultValue = "64", description = "Tokens to emit (default ${DEFAULT-VALUE}).")
    int genTokens;

    @Option(names = "--draft-layers", split = ",", required = true, description = "Draft depths E, e.g. 4,6,8.")
    int[] draftLayers;

    @Option(names = "--speculations", split = ",", defaultValue = "4",
            description = "Draft tokens per round n, one or more (default ${DEFAULT-VALUE}).")
    int[] speculations;

    @Mixin
    BenchThreads pool = new BenchThreads();

    @Option(names = "--rounds", defaultValue = "3", description = "Measured rounds (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--warmup-rounds", defaultValue = "1",
            description = "Unmeasured rounds first, for the JIT (default ${DEFAULT-VALUE}).")
    int warmupRounds;

    private record Config(int e, int n, SelfSpeculativeDecoder decoder, List<Double> rates, List<Double> ratios,
                          List<Double> cpuRatios, double[] acceptance) {
    }

    @Override
    public Integer call() throws Exception {
        Flags.require(genTokens >= 1, "--gen-tokens", ">= 1", genTokens);
        Flags.require(rounds >= 1, "--rounds", ">= 1", rounds);
        Flags.require(warmupRounds >= 0, "--warmup-rounds", ">= 0", warmupRounds);
        for (int n : speculations) {
            Flags.require(n >= 1, "--speculations", ">= 1", n);
        }
        pool.apply();
        Flags.exists(model, "--model");
        try (LoadedModel loaded = ModelInput.open(model)) {
            DecoderLM lm = ModelInput.decoder(loaded, "bench speculative");
            Tokenizer tok = loaded.tokenizer();
            int[] ids = tok == null ? new int[] {1} : tok.encode(prompt);
            int capacity = ids.length + genTokens;
            Flags.require(capacity <= lm.contextLength(), "--gen-tokens", "<= context length - prompt", genTokens);
            int layers = lm.stack().layers();
            PlannedStack ps = new PlannedStack(lm.stack(), ExecutionPlan.identity(layers));
            List<Config> configs = new ArrayList<>();
            for (int e : draftLayers) {
                Flags.require(e >= 1 && e <= layers, "--draft-layers", "in [1, " + layers + "]", e);
                for (int n : speculations) {
                    configs.add(new Config(e, n, new SelfSpeculativeDecoder(ps, lm.outputHead(), e, n, capacity,
                            DecoderLM.DEFAULT_CHUNK), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
                            new double[1]));
                }
            }
            DecoderLM.Session session = lm.newSession(capacity);
            System.out.printf(Locale.ROOT, "model %s: %d layers, dim %d, vocab %d; prompt %d tokens, %d generated;"
                    + " threads %d; load average %s%n", model.getFileName(), layers, lm.hiddenSize(), lm.vocabSize(),
                    ids.length, genTokens, ComputePool.threads(), loadAverage());
            List<Double> plain = new ArrayList<>();
            for (int r = -warmupRounds; r < rounds; r++) {
                int[] expected = new int[genTokens];
                long t0 = System.nanoTime(), c0 = GenerateBench.processCpuNanos();
                normal(session, ids, expected);
                double base = genTokens * 1e9 / (System.nanoTime() - t0);
                long baseCpu = GenerateBench.processCpuNanos() - c0;
                if (r >= 0) {
                    plain.add(base);
                }
                for (Config c : configs) {
                    long c1 = GenerateBench.processCpuNanos();
                    SelfSpeculativeDecoder.Result res = c.decoder.generate(ids, genTokens, -1);
                    long cpu = GenerateBench.processCpuNanos() - c1;
                    if (!Arrays.equals(res.tokens(), expected)) {
                        throw new IllegalStateException("E=" + c.e + " n=" + c.n + ": speculative output differs from"
                                + " normal greedy output: " + Arrays.toString(res.tokens()) + " vs "
                                + Arrays.toString(expected));
                    }
                    if (r >= 0) {
                        c.rates.add(res.tokensPerSecond());
                        c.ratios.add(res.tokensPerSecond() / base);
                        c.cpuRatios.add((double) baseCpu / cpu);
                        c.acceptance[0] = res.acceptanceRate();
                    }
                }
            }
            System.out.printf(Locale.ROOT, "normal greedy:   %s tok/s%n", range(plain));
            for (Config c : configs) {
                System.out.printf(Locale.ROOT, "E=%-3d n=%-2d acceptance %.3f: %s tok/s; speculative/normal: wall %s,"
                                + " cpu %s (output equals greedy)%n", c.e, c.n, c.acceptance[0], range(c.rates),
                        range(c.ratios), range(c.cpuRatios));
            }
            System.out.printf(Locale.ROOT, "load average after: %s%n", loadAverage());
        }
        return 0;
    }

    // Normal greedy decoding through the engine's session (prefill + one decode step per token) into out.
    private static void normal(DecoderLM.Session s, int[] prompt, int[] out) {
        s.reset();
        float[] logits = s.append(prompt, 0, prompt.length);
        int[] one = new int[1];
        for (int i = 0; i < out.length; i++) {
            out[i] = Sampler.Greedy.argmax(logits);
            if (i + 1 < out.length) {
                one[0] = out[i];
                logits = s.append(one, 0, 1);
            }
        }
    }

    // "min-max (median m)" of the values
    private static String range(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return String.format(Locale.ROOT, "%.3g-%.3g (median %.3g)", a[0], a[a.length - 1], a[a.length / 2]);
    }

    private static String loadAverage() {
        try {
            String[] f = java.nio.file.Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
