package dev.interlayer.models.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link CausalLM.Session#truncate} on every implementation (Llama's own forward; the nn-based
 * families, one of them with sliding-window ring caches): after appending a wrong continuation, rolling
 * back and appending the right one, the logits equal a session that only ever saw the right tokens.
 * Tolerance 1e-4, the project's F32 budget for the same math in another chunking (the rolled-back run
 * appends token by token where the reference prefills); measured in the output.
 */
class SessionTruncateTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"stories260K/stories260K.gguf, 20", "synthetic/synth-gpt2-f32.gguf, 20",
                "synthetic/synth-gemma2-f32.gguf, 24"})
    void rollbackThenAppendEqualsAFreshSession(String file, int n) throws Exception {
        try (LoadedModel m = ModelLoader.open(SharedModels.require(file))) {
            CausalLM lm = m.requireLm();
            SplittableRandom rng = new SplittableRandom(7);
            int[] right = new int[n], wrong = new int[3];
            for (int i = 0; i < n; i++) {
                right[i] = 1 + rng.nextInt(lm.vocabSize() - 1);
            }
            for (int i = 0; i < wrong.length; i++) {
                wrong[i] = 1 + rng.nextInt(lm.vocabSize() - 1);
            }
            int keep = n - 4;
            float[] want = lm.newSession(n).append(right, 0, n).clone();

            CausalLM.Session s = lm.newSession(n);
            s.append(right, 0, keep);
            for (int t : wrong) {                          // a rejected draft, token by token
                s.append(new int[] {t}, 0, 1);
            }
            s.truncate(keep);
            assertEquals(keep, s.position());
            float[] got = null;
            for (int i = keep; i < n; i++) {
                got = s.append(right, i, 1);
            }
            float err = 0;
            for (int j = 0; j < want.length; j++) {
                err = Math.max(err, Math.abs(want[j] - got[j]));
            }
            System.out.printf("%s truncate + re-append vs fresh: %.3g%n", file, err);
            float tol = file.contains("gemma2") ? 2e-3f : 1e-4f;   // synth-gemma2's budget (SharedModelsGoldenTest)
            assertTrue(err <= tol, file + ": " + err);

            assertThrows(IllegalArgumentException.class, () -> s.truncate(n + 1));
            assertThrows(IllegalArgumentException.class, () -> s.truncate(-1));
        }
    }
}
