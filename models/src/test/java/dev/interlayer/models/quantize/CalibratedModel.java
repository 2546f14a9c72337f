package dev.interlayer.models.quantize;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A shared decoder GGUF as the quantizer tests use it: loaded as the float model (the reference), opened as the
 * file the quantizers read and rewrite, and {@link SimulatedQuantizationTest#CALIBRATION} and
 * {@link SimulatedQuantizationTest#HELD_OUT} in its tokens.
 *
 * @param f32   the float model
 * @param file  the same GGUF for the quantizers
 * @param calib the calibration text's token ids
 * @param eval  the held-out text's token ids
 */
record CalibratedModel(LoadedModel f32, GgufFile file, int[] calib, int[] eval) implements AutoCloseable {
    /** Opens {@code name} under the shared models folder (the test skips without it, see {@link SharedModels}). */
    static CalibratedModel open(String name) throws IOException {
        Path path = SharedModels.require(name);
        LoadedModel f32 = ModelLoader.open(path);
        try {
            int[] calib = f32.tokenizer().encode(SimulatedQuantizationTest.CALIBRATION);
            int[] eval = f32.tokenizer().encode(SimulatedQuantizationTest.HELD_OUT);
            return new CalibratedModel(f32, Gguf.open(path), calib, eval);
        } catch (IOException | RuntimeException e) {
            f32.close();
            throw e;
        }
    }

    @Override
    public void close() {
        file.close();
        f32.close();
    }
}
