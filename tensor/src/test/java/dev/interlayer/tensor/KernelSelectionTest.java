package dev.interlayer.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The selection logic behind Kernels.active(), exercised through its package-private seams. */
class KernelSelectionTest {
    @Test
    void propertyPicksTheWidth() {
        List<String> warnings = new ArrayList<>();
        KernelSelection.OnceWarning w = new KernelSelection.OnceWarning(warnings::add);
        for (int bits : new int[] {128, 256, 512}) {
            assertEquals(bits, KernelSelection.parseBits(" " + bits + " "));
            assertEquals("simd-" + bits, KernelSelection.select(bits, true, w).name());
        }
        assertSame(KernelSelection.SCALAR, KernelSelection.select(KernelSelection.parseBits("0"), true, w));
        assertEquals(-1, KernelSelection.parseBits(null));
        assertEquals(-1, KernelSelection.parseBits(""));
        assertTrue(KernelSelection.select(-1, true, w).name().startsWith("simd-"));
        assertTrue(warnings.isEmpty(), warnings.toString());
    }

    @Test
    void systemPropertyIsRead() {
        String old = System.getProperty(KernelSelection.PROPERTY);
        try {
            System.setProperty(KernelSelection.PROPERTY, "256");
            assertEquals(256, KernelSelection.requestedBits());
        } finally {
            if (old == null) {
                System.clearProperty(KernelSelection.PROPERTY);
            } else {
                System.setProperty(KernelSelection.PROPERTY, old);
            }
        }
    }

    @Test
    void badPropertyNamesItself() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KernelSelection.parseBits("384"));
        assertTrue(e.getMessage().contains("dev.interlayer.simd.bits") && e.getMessage().contains("384"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KernelSelection.parseBits("wide"));
    }

    @Test
    void withoutTheVectorModuleItWarnsOnceAndUsesScalar() {
        List<String> warnings = new ArrayList<>();
        KernelSelection.OnceWarning w = new KernelSelection.OnceWarning(warnings::add);
        assertSame(KernelSelection.SCALAR, KernelSelection.select(-1, false, w));
        assertSame(KernelSelection.SCALAR, KernelSelection.select(512, false, w));
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("--add-modules jdk.incubator.vector"), warnings.get(0));
    }

    @Test
    void thisJvmHasTheModuleAndUsesSimd() {
        // Surefire starts the JVM with --add-modules jdk.incubator.vector (parent pom).
        assertTrue(KernelSelection.vectorModulePresent());
        String bits = System.getProperty(KernelSelection.PROPERTY);
        String expected = bits == null ? "simd-" : "0".equals(bits) ? "scalar" : "simd-" + bits;
        assertTrue(Kernels.active().name().startsWith(expected), Kernels.active().name());
    }
}
