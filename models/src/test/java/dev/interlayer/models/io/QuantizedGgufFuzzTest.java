package dev.interlayer.models.io;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.interlayer.tensor.Ops;
import dev.interlayer.tensor.Shape;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutation fuzzing of a quantized GGUF file (a synthetic model quantized to Q4_K_M: Q4_K, Q6_K,
 * Q5_0 and F32 tensors) the way the loader fuzz test treats real models: random bytes, bit flips and
 * 64-bit lies anywhere in the file (header, tensor table and block data, so scales and codes get hit),
 * and truncations. Each mutant is opened and every tensor is fetched and, if 2-D, multiplied.
 * Allowed: success, or an IOException / IllegalArgumentException / IllegalStateException /
 * UnsupportedOperationException / UncheckedIOException (a NaN scale) with a message. Anything else fails.
 */
class QuantizedGgufFuzzTest {
    private static final int MUTANTS = 200;

    @TempDir
    Path tmp;

    @Test
    void mutatedQuantizedFilesFailCleanly() throws Exception {
        Path f32 = tmp.resolve("f32.gguf"), q = tmp.resolve("q.gguf");
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama").putU32("llama.block_count", 2);
        String[] names = {"blk.0.attn_v.weight", "blk.1.ffn_down.weight", "blk.0.attn_q.weight", "odd.weight",
                "blk.0.attn_norm.weight"};
        Shape[] shapes = {Shape.of(2, 256), Shape.of(2, 256), Shape.of(1, 256), Shape.of(3, 96), Shape.of(256)};
        for (int i = 0; i < names.length; i++) {
            float[] x = GgufWriterTest.gaussian((int) shapes[i].size(), 40 + i);
            byte[] b = new byte[x.length * 4];
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(x);
            w.addTensor(names[i], GgufType.F32, shapes[i], GgufWriterTest.bytes(b));
        }
        w.write(f32, d -> { });
        try (GgufFile in = Gguf.open(f32)) {
            GgufQuantize.quantize(in, q, QuantPreset.Q4_K_M, false, GgufQuantize.SILENT);
        }
        byte[] clean = Files.readAllBytes(q);
        Random r = new Random(0x5EED7L);
        int opened = 0, rejected = 0;
        for (int i = 0; i < MUTANTS; i++) {
            byte[] m = clean.clone();
            int kind = r.nextInt(4);
            if (kind == 3) {
                m = java.util.Arrays.copyOf(m, r.nextInt(m.length));
            } else {
                for (int e = 0, edits = 1 + r.nextInt(4); e < edits; e++) {
                    int at = r.nextInt(m.length);
                    switch (kind) {
                        case 0 -> m[at] = (byte) r.nextInt(256);
                        case 1 -> m[at] ^= (byte) (1 << r.nextInt(8));
                        default -> {
                            long v = r.nextBoolean() ? -1L : 1L << r.nextInt(63);
                            for (int j = 0; j < 8 && at + j < m.length; j++) {
                                m[at + j] = (byte) (v >>> (8 * j));
                            }
                        }
                    }
                }
            }
            Path p = tmp.resolve("m" + i + ".gguf");
            Files.write(p, m);
            try (GgufFile g = Gguf.open(p)) {
                for (GgufTensorInfo t : g.tensorInfos()) {
                    Tensor x = g.tensor(t.name());
                    if (x.rank() == 2) {
                        Ops.matmulT(Tensor.zeros(1, x.dim(1)), x, Tensor.zeros(1, x.dim(0)));
                    }
                }
                opened++;
            } catch (IOException | IllegalArgumentException | IllegalStateException | UnsupportedOperationException
                     | UncheckedIOException e) {
                if (e.getMessage() == null || e.getMessage().isBlank()) {
                    fail("mutant " + i + ": " + e.getClass().getSimpleName() + " without a message", e);
                }
                rejected++;
            } catch (RuntimeException | Error e) {
                fail("mutant " + i + " (kind " + kind + "): " + e, e);
            } finally {
                Files.delete(p);
            }
        }
        assertTrue(rejected > 0 && opened > 0,
                "some mutants rejected (" + rejected + ") and some opened (" + opened + ")");
    }
}
