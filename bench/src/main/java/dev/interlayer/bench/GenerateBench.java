package dev.interlayer.bench;

import dev.interlayer.models.cli.Flags;
import dev.interlayer.models.cli.KvTypeOption;
import dev.interlayer.models.cli.ModelInput;
import dev.interlayer.models.cli.Progress;
import dev.interlayer.models.generate.CausalLM;
import dev.interlayer.models.generate.Sampler;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.io.GgufTensorInfo;
import dev.interlayer.models.lm.DecoderLM;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.tokenizer.Tokenizer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./interlayer bench generate}: end-to-end speed of a causal LM of any decoder family the model loader
 * reads (Llama/Mistral/Qwen2 and their MoE variants, Gemma, OLMo 2, GPT-2), from a GGUF file or a Hugging Face
 * folder. Prefill of
 * {@code --prompt-tokens} (chunked, batched matmuls), then {@code --gen-tokens} greedy decode steps
 * (matrix-vector products); prints prefill and decode tokens/s, the decode weight stream in GB/s
 * (weight bytes read per token × tokens/s) and peak RSS (VmHWM) next to the model file size. The KV
 * cache holds exactly prompt + gen positions. Warm-up passes (one prefill chunk and a few decode steps
 * on the same session, repeated for {@code --warmup-seconds}) let the JIT compile the kernels first. The last line is machine-readable ({@code key=value}).
 *
 * <p>Wall-clock rates on a shared machine are only as good as the CPU share the process got; the
 * {@code cpu} figure (process CPU time / (wall time × threads)) says how much that was.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "End-to-end prefill/decode tokens/s, decode GB/s and peak RSS for a GGUF model or HF folder.")
public final class GenerateBench implements BenchSubcommand, Callable<Integer> {
    @Option(names = "--model", required = true,
            description = "GGUF model file or Hugging Face folder (any causal LM family).")
    Path model;

    @Mixin
    DecodeWorkload work = new DecodeWorkload(128, 64);

    @Mixin
    BenchThreads pool = new BenchThreads();

    @Option(names = "--chunk", defaultValue = "" + DecoderLM.DEFAULT_CHUNK,
            description = "Prefill chunk: tokens per batched matmul (default ${DEFAULT-VALUE}).")
    int chunk;

    @Option(names = "--warmup-tokens", defaultValue = "16",
            description = "Decode steps per warm-up pass (default ${DEFAULT-VALUE}).")
    int warmupTokens;

    @Option(names = "--warmup-seconds", defaultValue = "10",
            description = "Repeat warm-up passes (one prefill chunk + decode steps) for at least this long; "
                    + "0 = no warm-up (default ${DEFAULT-VALUE}).")
    double warmupSeconds;

    @Mixin
    KvTypeOption kvType = new KvTypeOption();

    @Override
    public Integer call() throws IOException {
        work.check();
        Flags.require(chunk >= 1, "--chunk", ">= 1", chunk);
        Flags.require(warmupTokens >= 0, "--warmup-tokens", ">= 0", warmupTokens);
        Flags.require(warmupSeconds >= 0, "--warmup-seconds", ">= 0", warmupSeconds);
        pool.apply();
        kvType.type();   // checked before the load
        Flags.exists(model, "--model");
        long t0 = System.nanoTime();
        try (LoadedModel loaded = ModelInput.open(model)) {
            CausalLM lm = kvType.apply(loaded.requireLm());
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            int capacity = work.promptTokens + work.genTokens;
            // --chunk applies to the nn decoder families (every family the loader builds); kvBytes < 0: unknown
            CausalLM.Session s;
            long kvBytes = -1;
            int layers = -1;
            int dim = -1;
            if (lm instanceof DecoderLM d) {
                DecoderLM.Session ds = d.newSession(capacity, chunk);
                kvBytes = ds.cacheBytes();
                layers = d.stack().layers();
                dim = d.hiddenSize();
                s = ds;
            } else {
                s = lm.newSession(capacity);
            }
            long fileBytes;
            long weightBytes;
            if (Files.isDirectory(model)) {
                // The weight stream per token is taken as every safetensors byte (an upper bound: the embedding
                // is read one row at a time).
                fileBytes = safetensorsBytes(model);
                weightBytes = fileBytes;
                System.out.printf(Locale.ROOT, "model %s: %s (Hugging Face folder), vocab %d; weights %.2f GB; "
                        + "loaded in %.2f s%n", model.getFileName(), loaded.family(), lm.vocabSize(), fileBytes / 1e9,
                        loadSeconds);
            } else {
                fileBytes = Files.size(model);
                try (GgufFile file = Gguf.open(model)) {   // tensor infos only: the header, no weight pages
                    weightBytes = weightBytesPerToken(file, lm.vocabSize());
                    System.out.printf(Locale.ROOT, "model %s: %d layers, dim %d, vocab %d, %s weights; file %.2f GB; "
                                    + "loaded in %.2f s%n", model.getFileName(),
                            layers, dim, lm.vocabSize(),
                            matrixType(file), fileBytes / 1e9, loadSeconds);
                }
            }
            int[] prompt = prompt(loaded.optionalTokenizer().orElse(null), lm.vocabSize());
            measure(s, prompt, fileBytes, weightBytes, kvBytes);
        }
        return 0;
    }

    private static long safetensorsBytes(Path dir) throws IOException {
        long bytes = 0;
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (p.getFileName().toString().endsWith(".safetensors")) {
                    bytes += Files.size(p);
                }
            }
        }
        return bytes;
    }

    /** Storage type of the first block's first matrix (the weights' format, whatever the family names them). */
    private static String matrixType(GgufFile file) {
        for (GgufTensorInfo t : file.tensorInfos()) {
            if (t.name().startsWith("blk.0.") && t.shape().rank() == 2) {
                return t.type().toString();
            }
        }
        return "?";
    }

    // Warm-up, then the measured prefill + decode; prints the report. kvBytes < 0: not known for this model.
    private void measure(CausalLM.Session s, int[] prompt, long fileBytes, long weightBytesPerToken, long kvBytes) {
        int capacity = work.promptTokens + work.genTokens;
        if (warmupSeconds > 0) {
            // The JIT compiles the vector kernels in the background: a pass or two is not enough.
            long w0 = System.nanoTime(), until = w0 + (long) (warmupSeconds * 1e9);
            int warmPrompt = Math.min(work.promptTokens, chunk);
            int warmDecode = Math.min(warmupTokens, capacity - warmPrompt);
            int passes = 0;
            try (Progress p = Progress.start("warm-up", warmupSeconds)) {
                do {
                    decode(s, s.append(prompt, 0, warmPrompt), warmDecode);
                    s.reset();
                    passes++;
                    p.update((System.nanoTime() - w0) / 1e9);
                } while (System.nanoTime() < until);
            }
            System.out.printf(Locale.ROOT, "warm-up: %d passes of %d prompt + %d decode tokens in %.1f s%n",
                    passes, warmPrompt, warmDecode, (System.nanoTime() - w0) / 1e9);
        }

        // Warm-up garbage (vector code before C2) may have grown the heap: collect it, and restart the
        // peak-RSS counter (Linux clear_refs "5") so that the measured phase has its own peak too.
        long warmupHwm = procStatusKb("VmHWM") * 1024;
        System.gc();
        boolean hwmReset = resetPeakRss();
        long cpu0 = processCpuNanos(), p0 = System.nanoTime();
        float[] logits = s.append(prompt, 0, work.promptTokens);
        long p1 = System.nanoTime(), cpu1 = processCpuNanos();
        decode(s, logits, work.genTokens);
        long d1 = System.nanoTime(), cpu2 = processCpuNanos();

        double prefillSeconds = (p1 - p0) / 1e9, decodeSeconds = (d1 - p1) / 1e9;
        double prefillRate = work.promptTokens / prefillSeconds, decodeRate = work.genTokens / decodeSeconds;
        double gbPerSecond = weightBytesPerToken * decodeRate / 1e9;
        long measuredHwm = procStatusKb("VmHWM") * 1024;
        long hwm = Math.max(warmupHwm, measuredHwm);
        long budget = (long) (fileBytes * 1.1) + Math.max(0, kvBytes);
        System.out.printf(Locale.ROOT, "prefill: %d tokens in %.2f s = %.2f tok/s (cpu %.0f%%)%n", work.promptTokens,
                prefillSeconds, prefillRate, 100.0 * (cpu1 - cpu0) / (p1 - p0) / pool.threads);
        System.out.printf(Locale.ROOT, "decode:  %d tokens in %.2f s = %.2f tok/s, %.1f GB/s of weights "
                        + "(%.3f GB/token) (cpu %.0f%%)%n", work.genTokens, decodeSeconds, decodeRate, gbPerSecond,
                weightBytesPerToken / 1e9, 100.0 * (cpu2 - cpu1) / (d1 - p1) / pool.threads);
        String kv = kvBytes < 0 ? "KV cache size unknown, budget not checked"
                : String.format(Locale.ROOT, "KV cache %.1f MB (%d positions, %s); budget file+10%%+KV %.2f GB: %s",
                        kvBytes / 1e6, capacity, kvType.type().cliName(), budget / 1e9,
                        hwm <= budget ? "within" : "EXCEEDED");
        System.out.printf(Locale.ROOT, "memory:  peak RSS %.2f GB; model file %.2f GB; %s%n", hwm / 1e9,
                fileBytes / 1e9, kv);
        if (hwmReset && kvBytes >= 0) {
            System.out.printf(Locale.ROOT, "         measured phase alone (after warm-up and a GC): peak RSS %.2f GB: %s%n",
                    measuredHwm / 1e9, measuredHwm <= budget ? "within" : "EXCEEDED");
        }
        long heapPeak = peakHeapCommitted();
        System.out.printf(Locale.ROOT, "         of which Java heap (peak committed) %.2f GB%s%n", heapPeak / 1e9,
                kvBytes >= 0 && hwm > budget ? "; the launcher bounds it with -XX:+UseSerialGC -Xmn8m -Xms32m and heap free ratios 10-30%"
                        + " (check INTERLAYER_JVM_OPTS for flags that undo that)" : "");
        System.out.printf(Locale.ROOT, "bench=generate threads=%d prompt_tokens=%d gen_tokens=%d chunk=%d "
                        + "prefill_tok_s=%.2f decode_tok_s=%.2f decode_gb_s=%.2f peak_rss_bytes=%d "
                        + "measured_peak_rss_bytes=%d file_bytes=%d kv_bytes=%d%n", pool.threads, work.promptTokens,
                work.genTokens, chunk, prefillRate, decodeRate, gbPerSecond, hwm, hwmReset ? measuredHwm : -1, fileBytes,
                kvBytes);
    }

    /** n greedy decode steps from the given logits (argmax, no sampling cost in the loop). */
    private static void decode(CausalLM.Session s, float[] logits, int n) {
        int[] one = new int[1];
        for (int i = 0; i < n; i++) {
            one[0] = Sampler.Greedy.argmax(logits);
            logits = s.append(one, 0, 1);
        }
    }

    /**
     * The prompt: the model's tokenizer applied to an English text when the file has one (repeated
     * to length), else seeded random ids; exactly {@code --prompt-tokens} ids.
     */
    private int[] prompt(Tokenizer tok, int vocab) {
        int[] ids = null;
        if (tok != null) {
            String text = "The quick brown fox jumps over the lazy dog while the old man reads a book. ";
            ids = tok.encode(text.repeat(Math.max(1, work.promptTokens / 8)));
        }
        int[] out = new int[work.promptTokens];
        SplittableRandom rng = new SplittableRandom(42);
        for (int i = 0; i < work.promptTokens; i++) {
            out[i] = ids != null && i < ids.length ? ids[i] : rng.nextInt(vocab);
        }
        int fromText = ids == null ? 0 : Math.min(ids.length, work.promptTokens);
        System.out.printf(Locale.ROOT, "prompt: %d tokens (%d from the model's tokenizer, %d seeded random ids)%n",
                work.promptTokens, fromText, work.promptTokens - fromText);
        return out;
    }

    /**
     * Bytes of weights one decode step reads: every tensor except the token embedding, of which one
     * row is read (unless the output projection is tied to it, then it is read whole).
     */
    static long weightBytesPerToken(GgufFile file, int vocab) {
        long total = 0;
        for (GgufTensorInfo t : file.tensorInfos()) {
            total += t.byteSize();
        }
        if (file.contains("output.weight")) {
            long embed = file.info("token_embd.weight").byteSize();
            total -= embed - embed / vocab;
        }
        return total;
    }

    /** Resets VmHWM to the current RSS (Linux 4.0+); false where that is not possible. */
    private static boolean resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Σ over heap memory pools of their peak committed bytes. */
    private static long peakHeapCommitted() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                sum += p.getPeakUsage().getCommitted();
            }
        }
        return sum;
    }

    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** A "Key:   123 kB" line of /proc/self/status in kB, or -1 where there is no /proc. */
    static long procStatusKb(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) {
                    return Long.parseLong(line.substring(key.length() + 1).replace("kB", "").trim());
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
