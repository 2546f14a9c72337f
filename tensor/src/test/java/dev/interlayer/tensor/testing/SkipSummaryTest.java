package dev.interlayer.tensor.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The skip reasons SkipSummary groups by: one line per missing shared folder, else the message's first line. */
class SkipSummaryTest {
    @Test
    void missingSharedDataFoldsIntoOneReason() {
        String a = SkipSummary.fold("Assumption failed: shared test data 'stories260K/stories260K.gguf' not found at /x");
        String b = SkipSummary.fold("../shared/models not found (looked from INTERLAYER_REPO_ROOT and ...)");
        assertEquals(a, b);
        assertEquals(true, a.contains("../shared/models"), a);
    }

    @Test
    void otherReasonsKeepTheirFirstLine() {
        assertEquals("needs AVX-512", SkipSummary.fold("Assumption failed: needs AVX-512\nmore detail"));
        assertEquals("assumption failed", SkipSummary.fold(null));
    }
}
