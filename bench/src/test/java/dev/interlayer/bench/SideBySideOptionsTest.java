package dev.interlayer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** {@link SideBySideOptions}: values parsed, and every bad command line refused with a message that names it. */
class SideBySideOptionsTest {
    private static String refusal(String... args) {
        return assertThrows(IllegalArgumentException.class, () -> SideBySideOptions.parse(args)).getMessage();
    }

    @Test
    void parsesItsOptions() {
        SideBySideOptions o = SideBySideOptions.parse(new String[] {"a.jar", "b.jar", "decode", "--model", "m.gguf",
                "--threads", "2", "--pairs", "5", "--turn", "0.5"});
        assertEquals("m.gguf", o.model());
        assertEquals(2, o.threads());
        assertEquals(5, o.pairs());
        assertEquals(0.5, o.turn());
        assertEquals("tokens", o.unit());
    }

    @Test
    void badCommandLinesAreRefusedByName() {
        assertEquals("--threads two: not a number", refusal("a.jar", "b.jar", "embed", "--threads", "two"));
        assertEquals("--pairs needs a value", refusal("a.jar", "b.jar", "embed", "--pairs"));
        assertEquals("decode needs --model FILE", refusal("a.jar", "b.jar", "decode"));
        assertEquals("threads, batch, pairs ≥ 1 and turn > 0, warmup ≥ 0 seconds",
                refusal("a.jar", "b.jar", "embed", "--turn", "0"));
        assertEquals("unknown option --seed (--model, --threads, --batch, --pairs, --turn, --warmup)",
                refusal("a.jar", "b.jar", "embed", "--seed", "1"));
    }
}
