package dev.interlayer.bench;

import dev.interlayer.models.cli.Flags;
import dev.interlayer.models.cli.ModelInput;
import dev.interlayer.models.cli.Progress;
import dev.interlayer.models.generate.Sampler.Greedy;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.nn.BatchDecoder;
import dev.interlayer.nn.StackSession;
import dev.interlayer.nn.plan.OutputHead;
import dev.interlayer.tensor.Tensor;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./interlayer bench batch}: aggregate decode tokens/s when b sequences advance together through
 * {@link BatchDecoder} (one pass over the weights per step), for each b of {@code --batch}, next to the plain
 * single-sequence decode of the same model. Each sequence has its own session and a prompt of
 * {@code --prompt-tokens} (rotated per sequence, so the positions match but the tokens differ); decode is greedy.
 * Warm-up at the largest b first ({@code --warmup-seconds}). The last line per b is machine-readable.
 */
@Command(name = "batch", mixinStandardHelpOptions = true,
        description = "Aggregate decode tokens/s of b sequences decoded together (batched decode) for each b.")
public final class BatchDecodeBench implements BenchSubcommand, Callable<Integer> {
    @Option(names = "--model", required = true, description = "GGUF model file or Hugging Face folder (decoder).")
    Path model;

    @Option(names = "--batch", defaultValue = "1,2,4", split = ",",
            description = "Batch sizes, 1..16 (default ${DEFAULT-VALUE}).")
    int[] batches;

    @Mixin
    DecodeWorkload work = new DecodeWorkload(32, 32);

    @Mixin
    BenchThreads pool = new BenchThreads();

    @Option(names = "--warmup-seconds", defaultValue = "10", description = "Warm-up (default ${DEFAULT-VALUE}).")
    double warmupSeconds;

    @Override
    public Integer call() throws Exception {
        work.check();
        Flags.require(warmupSeconds >= 0, "--warmup-seconds", ">= 0", warmupSeconds);
        int most = 0;
        for (int b : batches) {
            Flags.require(b >= 1 && b <= 16, "--batch", "values in [1, 16]", b);
            most = Math.max(most, b);
        }
        pool.apply();
        Flags.exists(model, "--model");
        try (LoadedModel loaded = ModelInput.open(model)) {
            DecoderLM lm = ModelInput.decoder(loaded, "bench batch");
            BatchDecoder decoder = lm.stack().newBatchDecoder(most);
            OutputHead head = lm.outputHead();
            long w0 = System.nanoTime();
            try (Progress p = Progress.start("warm-up", warmupSeconds)) {
                do {
                    run(lm, decoder, head, most, Math.min(8, work.genTokens));
                    run(lm, null, head, 1, Math.min(8, work.genTokens));
                    p.update((System.nanoTime() - w0) / 1e9);
                } while (System.nanoTime() - w0 < warmupSeconds * 1e9);
            }
            double single = run(lm, null, head, 1, work.genTokens);
            System.out.printf(Locale.ROOT, "single decode: %.2f tok/s%n", single);
            for (int b : batches) {
                double rate = run(lm, decoder, head, b, work.genTokens);
                System.out.printf(Locale.ROOT, "bench=batch threads=%d batch=%d gen_tokens=%d aggregate_tok_s=%.2f "
                        + "per_sequence_tok_s=%.2f vs_single=%.2f%n", pool.threads, b, work.genTokens, rate, rate / b,
                        rate / single);
            }
        }
        return 0;
    }

    // Prefills b sessions, then n greedy steps (batched through decoder, or one session alone when it is null);
    // returns aggregate decode tokens/s.
    private double run(DecoderLM lm, BatchDecoder decoder, OutputHead head, int b, int n) {
        int vocab = lm.vocabSize();
        DecoderLM.Session[] sessions = new DecoderLM.Session[b];
        StackSession[] stacks = new StackSession[b];
        int[] tokens = new int[b];
        for (int i = 0; i < b; i++) {
            int[] prompt = new int[work.promptTokens];
            for (int p = 0; p < work.promptTokens; p++) {
                prompt[p] = (int) ((31L * p + 7L * i + 1) % vocab);
            }
            sessions[i] = lm.newSession(work.promptTokens + n, Math.min(work.promptTokens, DecoderLM.DEFAULT_CHUNK));
            stacks[i] = sessions[i].stackSession();
            tokens[i] = Greedy.argmax(sessions[i].append(prompt, 0, work.promptTokens), 0, vocab);
        }
        Tensor logits = Tensor.zeros(b, vocab);
        float[] rows = logits.heapFloats();
        int[] one = new int[1];
        long t0 = System.nanoTime();
        for (int step = 0; step < n; step++) {
            if (decoder == null) {
                one[0] = tokens[0];
                tokens[0] = Greedy.argmax(sessions[0].append(one, 0, 1), 0, vocab);
                continue;
            }
            decoder.decode(tokens, stacks, b, head, logits);
            for (int i = 0; i < b; i++) {
                tokens[i] = Greedy.argmax(rows, i * vocab, vocab);
            }
        }
        return (double) b * n / ((System.nanoTime() - t0) / 1e9);
    }
}
