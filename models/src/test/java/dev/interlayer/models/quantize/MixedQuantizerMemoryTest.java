package dev.interlayer.models.quantize;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The reference-logit cache of {@code --method mixed} is sized before any run: too large is a clear error. */
class MixedQuantizerMemoryTest {
    @Test
    void aCacheLargerThanHalfTheHeapIsRefusedNamingTokensVocabularyAndBytes() {
        // 1M tokens x 128k vocabulary = 512 GB of float rows: more than any test heap
        var e = assertThrows(IllegalArgumentException.class,
                () -> MixedQuantizer.checkCacheFits(1_000_000, 4_096, 128_000));
        assertTrue(e.getMessage().contains("1,000,000 calibration tokens x 128,000 vocabulary")
                && e.getMessage().contains("-Xmx"), e.getMessage());
        assertDoesNotThrow(() -> MixedQuantizer.checkCacheFits(12_213, 4_096, 512));   // stories260K: ~33 MB
    }
}
