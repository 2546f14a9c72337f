package dev.interlayer.tensor.quant.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every decode-tile switch ({@code -Ddev.interlayer.<format>.tile=…}) takes exactly its documented values and
 * refuses anything else with a message that names the property, the bad value and the supported values, so that a
 * misspelt switch cannot silently measure another tile.
 */
class TileSwitchTest {
    static Stream<Arguments> switches() {
        return Stream.of(
                Arguments.of("q4_0.tile", (Function<String, Object>) TileDriver::q40Tile,
                        Map.of("quads", TileDriver.Q4_0_QUADS, "unrolled", TileDriver.Q4_0_UNROLLED,
                                "pairs", TileDriver.Q4_0_PAIRS), "quad"),
                Arguments.of("q8_0.tile", (Function<String, Object>) TileDriver::q80Tile,
                        Map.of("eight", TileDriver.Q8_0_EIGHT, "scale", TileDriver.Q8_0_SCALED,
                                "written", TileDriver.Q8_0_WRITTEN), "8"),
                Arguments.of("q4_k.tile", (Function<String, Object>) TileDriver::q4kTile,
                        Map.of("eight", true, "four", false), "8"),
                Arguments.of("q6_k.tile", (Function<String, Object>) TileDriver::q6kTile,
                        Map.of("unrolled", true, "wide", false), "compact"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("switches")
    void takesItsValuesAndRefusesOthersByName(String property, Function<String, Object> parse,
                                              Map<String, Object> values, String bad) {
        values.forEach((value, expected) -> assertEquals(expected, parse.apply(value), property + "=" + value));
        String message = assertThrows(IllegalArgumentException.class, () -> parse.apply(bad)).getMessage();
        for (String named : List.copyOf(values.keySet())) {
            assertTrue(message.contains(named), message);
        }
        assertTrue(message.contains(property + "=" + bad), message);
    }
}
