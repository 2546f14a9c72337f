package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Fast GEMM == oracle at every forced vector width. The species is a JVM-wide constant (see
 * {@code simd.GemmSpecies}), so each width runs {@link GemmCheck#main} in its own JVM with
 * {@code -Ddev.interlayer.simd.bits=W}; 0 is the scalar fallback. The preferred width is also swept
 * in-process by {@link MatMulTest}.
 */
class GemmWidthsTest {

    @ParameterizedTest(name = "bits={0}")
    @ValueSource(ints = {0, 128, 256, 512})
    void forcedWidthMatchesOracle(int bits) throws IOException, InterruptedException {
        // 2 threads: also exercises the work split
        String out = ChildJvm.runWithBits(bits, GemmCheck.class.getName(), "3", "2");
        assertTrue(out.contains("OK kernel=" + (bits == 0 ? "scalar" : "simd-" + bits)), out);
    }
}
