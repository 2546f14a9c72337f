package dev.interlayer.models.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.interlayer.models.SharedModels;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import org.junit.jupiter.api.Test;

/** Sessions are bounded by the trained context, and appending past a session's capacity fails clearly. */
class LlamaSessionBoundsTest {

    @Test
    void sessionsLongerThanTheContextAndAppendsPastCapacityAreRejected() throws Exception {
        try (GgufFile file = Gguf.open(SharedModels.require("stories260K/stories260K.gguf"))) {
            LlamaModel model = LlamaModel.load(file);
            int ctx = model.contextLength();
            assertEquals(2048, ctx, "stories260K's GGUF header says context 2048");
            IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                    () -> model.newSession(ctx + 1));
            assertTrue(tooLong.getMessage().contains("context length 2048"), tooLong.getMessage());
            assertThrows(IllegalArgumentException.class, () -> model.newSession(Integer.MAX_VALUE));

            var s = model.newSession(4);
            s.append(new int[] {1, 403, 407, 261}, 0, 4);
            IllegalArgumentException full = assertThrows(IllegalArgumentException.class,
                    () -> s.append(new int[] {378}, 0, 1));
            assertTrue(full.getMessage().contains("holds 4 positions"), full.getMessage());
        }
    }
}
