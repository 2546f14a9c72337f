package dev.interlayer.models.load;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.embed.EmbeddingModel;
import dev.interlayer.models.embed.Pooling;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutation fuzzing of real model and tokenizer files: random bit flips, bytes, 64-bit values (−1 and powers of two,
 * the "huge count" lies) in a file's first 64 KB (headers, metadata, tensor tables), and truncations anywhere.
 * Each mutant is loaded and, when that succeeds, run for two tokens (or one sentence).
 *
 * <p>Allowed outcomes: success (a flipped weight is just a different number), or an {@link IOException}
 * (including {@code ModelFormatException}), {@link IllegalArgumentException}, {@link IllegalStateException} or
 * {@link UnsupportedOperationException} with a message. Not allowed: anything else (index errors from inside a
 * reader or kernel, {@code NegativeArraySizeException}, {@code OutOfMemoryError}), a raw
 * {@link NumberFormatException} (its "For input string" names neither file nor field; one such case was found
 * by this test's first run, a BYTE token that was not {@code <0xHH>}), or taking longer than 20 s.
 */
class CorruptFilesFuzzTest {
    static final int GGUF_MUTANTS = 150, SAFETENSORS_MUTANTS = 100, ONNX_MUTANTS = 25, TOKENIZER_JSON_MUTANTS = 150;
    static final long CASE_TIMEOUT_SECONDS = 20;
    static final int HEADER_REGION = 1 << 16;

    private static final ExecutorService RUNNER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fuzz-case");
        t.setDaemon(true);
        return t;
    });

    @TempDir
    Path tmp;

    @AfterAll
    static void stopRunner() {
        RUNNER.shutdownNow();
    }

    /** A loader-only body: open, and run two tokens if it opened. */
    private interface Body {
        void run(Path mutant) throws Exception;
    }

    @Test
    void mutatedGgufModelsFailCleanly() throws Exception {
        Path src = SharedModels.require("stories260K/stories260K.gguf");
        fuzz(src, GGUF_MUTANTS, 0x5EED1L, ".gguf", CorruptFilesFuzzTest::loadAndRun);
    }

    @Test
    void mutatedGgufTokenizersFailCleanly() throws Exception {
        Path src = SharedModels.require("tokenizers/ggml-vocab-llama-spm.gguf");
        fuzz(src, GGUF_MUTANTS, 0x5EED2L, ".gguf", mutant -> {
            try (GgufFile g = Gguf.open(mutant)) {
                var t = Tokenizers.fromGguf(g);
                t.decode(t.encode("Hello wörld 123 \n\t 😀 <s> a</s>b"));
            }
        });
    }

    @Test
    void mutatedTokenizerJsonFilesFailCleanly() throws Exception {
        for (String name : new String[] {"hf-tiny-random/fake_gpt2/tokenizer.json",
                "hf-tiny-random/bert_tiniest/tokenizer.json"}) {
            Path src = SharedModels.require(name);
            fuzz(src, TOKENIZER_JSON_MUTANTS, 0x5EED5L + name.length(), ".json", mutant -> {
                var t = Tokenizers.fromHuggingFace(mutant);
                t.decode(t.encode("Hello wörld 123 \n\t 😀 [CLS] a<|endoftext|>b"));
            });
        }
    }

    @Test
    void mutatedSafetensorsFoldersFailCleanly() throws Exception {
        Path dir = SharedModels.require("hf-tiny-random/bert_tiniest");
        Path folder = Files.createDirectories(tmp.resolve("folder"));
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                if (!p.getFileName().toString().equals("model.safetensors")) {
                    Files.copy(p, folder.resolve(p.getFileName()));
                }
            }
        }
        fuzz(dir.resolve("model.safetensors"), SAFETENSORS_MUTANTS, 0x5EED3L, "folder/model.safetensors",
                mutant -> loadAndRun(mutant.getParent()));
    }

    @Test
    void mutatedOnnxEmbeddingModelsFailCleanly() throws Exception {
        Path onnx = EmbeddingModel.defaultOnnxPath(), tokenizer = EmbeddingModel.defaultTokenizerPath();
        fuzz(onnx, ONNX_MUTANTS, 0x5EED4L, ".onnx", mutant -> {
            try (EmbeddingModel m = EmbeddingModel.fromOnnx(mutant, tokenizer, Pooling.MEAN)) {
                m.embed(List.of("a short sentence"));
            }
        });
    }

    private static void loadAndRun(Path path) throws IOException {
        try (LoadedModel m = ModelLoader.open(path)) {
            if (m.lm() != null) {
                m.lm().newSession(8).append(new int[] {1, 2}, 0, 2);
            }
        }
    }

    /**
     * Writes {@code count} seeded mutants of {@code src} to {@code target} (a file name suffix, or a path in
     * the temp folder) and runs {@code body} on each; fails listing every mutant that broke the rules.
     */
    private void fuzz(Path src, int count, long seed, String target, Body body) throws Exception {
        byte[] original = Files.readAllBytes(src);
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> broken = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] b = original.clone();
            String how = mutate(b, rng);
            if (how.startsWith("truncate")) {
                b = Arrays.copyOf(b, Integer.parseInt(how.substring("truncate to ".length())));
            }
            Path mutant = target.startsWith(".") ? tmp.resolve("mutant" + i + target) : tmp.resolve(target);
            Files.write(mutant, b);
            Future<Throwable> f = RUNNER.submit(() -> {
                try {
                    body.run(mutant);
                    return null;
                } catch (Throwable t) {
                    return t;
                }
            });
            Throwable t;
            try {
                t = f.get(CASE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                f.cancel(true);
                fail(src.getFileName() + " mutant " + i + " (" + how + ") did not finish in " + CASE_TIMEOUT_SECONDS
                        + " s; earlier outcomes " + outcomes);
                return;
            }
            outcomes.merge(t == null ? "loaded and ran" : t.getClass().getSimpleName(), 1, Integer::sum);
            if (t != null && !clean(t)) {
                broken.add("mutant " + i + " (" + how + "): " + t + at(t));
            }
            if (target.startsWith(".")) {
                Files.delete(mutant);
            }
        }
        System.out.printf("fuzz %s: %d mutants, %s%n", src.getFileName(), count, outcomes);
        assertTrue(broken.isEmpty(), src.getFileName() + ": " + broken.size() + " mutants failed badly:\n"
                + String.join("\n", broken));
        // The mutations must reach the parsers: a run in which every mutant loads would check nothing.
        assertTrue(outcomes.keySet().stream().anyMatch(o -> !o.equals("loaded and ran")),
                src.getFileName() + ": no mutant was rejected, the mutations missed the headers: " + outcomes);
    }

    /** Applies one seeded mutation to b in place (or names a truncation) and describes it. */
    private static String mutate(byte[] b, SplittableRandom rng) {
        int region = Math.min(b.length, HEADER_REGION);
        switch (rng.nextInt(4)) {
            case 0 -> {
                return "truncate to " + rng.nextInt(b.length);
            }
            case 1 -> {
                int at = rng.nextInt(region);
                int bit = rng.nextInt(8);
                b[at] ^= (byte) (1 << bit);
                return "flip bit " + bit + " at " + at;
            }
            case 2 -> {
                int at = rng.nextInt(region - 8);
                long v = rng.nextBoolean() ? -1L : 1L << rng.nextInt(63);
                for (int j = 0; j < 8; j++) {
                    b[at + j] = (byte) (v >>> (8 * j));
                }
                return "u64 " + Long.toUnsignedString(v) + " at " + at;
            }
            default -> {
                int at = rng.nextInt(region);
                int v = rng.nextInt(256);
                b[at] = (byte) v;
                return "byte " + v + " at " + at;
            }
        }
    }

    private static boolean clean(Throwable t) {
        boolean allowedType = t instanceof IOException || t instanceof IllegalStateException
                || t instanceof UnsupportedOperationException
                || (t instanceof IllegalArgumentException && !(t instanceof NumberFormatException));
        return allowedType && t.getMessage() != null && !t.getMessage().isBlank();
    }

    private static String at(Throwable t) {
        StackTraceElement[] st = t.getStackTrace();
        return st.length == 0 ? "" : " at " + st[0];
    }
}
