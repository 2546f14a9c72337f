package dev.interlayer.tensor.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.tensor.ChildJvm;
import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Quantized kernels == oracle at every forced vector width (16-byte code groups widen to 1, 2 or 4
 * float vectors). The species is a JVM-wide constant (see {@code quant.vector.QSpecies}), so each width
 * runs {@link QuantCheck#main} in its own JVM with {@code -Ddev.interlayer.simd.bits=W}; 0 is the
 * scalar fallback. The preferred width is also swept in-process by {@link QuantMatMulTest}.
 */
class QuantWidthsTest {

    @ParameterizedTest(name = "bits={0}")
    @ValueSource(ints = {0, 128, 256, 512})
    void forcedWidthMatchesOracle(int bits) throws IOException, InterruptedException {
        String out = ChildJvm.runWithBits(bits, QuantCheck.class.getName());
        assertTrue(out.contains("OK kernel=" + (bits == 0 ? "scalar" : "simd-" + bits)), out);
    }
}
