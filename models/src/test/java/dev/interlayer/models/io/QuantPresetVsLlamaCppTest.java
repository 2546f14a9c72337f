package dev.interlayer.models.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.interlayer.models.SharedModels;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every preset's per-tensor type choice equals llama.cpp's: the fixture {@code golden/quant/preset_types.json} holds
 * the type {@code llama-quantize} (without {@code --pure}) gave each tensor of six shared models
 * ({@code reference/quant/preset_types.py}). Where llama-quantize refused a model (a row that no type of the
 * preset divides, e.g. stories260K's 172-column ffn_down under Q4_0), Interlayer falls back to F16 instead:
 * those cases are listed in the fixture as errors and skipped here. The entry {@code …#expert_count=8} is the
 * Mixtral-layout file with its expert count set to 8 in the metadata, for llama.cpp's 8-expert rules; the
 * test reads the same file and overrides the count the same way.
 */
class QuantPresetVsLlamaCppTest {
    private static JsonObject fixture() throws IOException {
        try (InputStream in = QuantPresetVsLlamaCppTest.class.getResourceAsStream("/golden/quant/preset_types.json")) {
            assertNotNull(in, "fixture golden/quant/preset_types.json missing");
            return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
        }
    }

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (Map.Entry<String, JsonElement> m : fixture().getAsJsonObject("models").entrySet()) {
            JsonObject model = m.getValue().getAsJsonObject();
            for (Map.Entry<String, JsonElement> p : model.getAsJsonObject("presets").entrySet()) {
                if (p.getValue().isJsonArray()) {
                    int experts = model.has("expert_count") ? model.get("expert_count").getAsInt() : -1;
                    out.add(Arguments.of(m.getKey(), p.getKey(), experts, model.getAsJsonArray("tensors"),
                            p.getValue().getAsJsonArray()));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void sameTypeAsLlamaQuantize(String model, String preset, int expertCount, JsonArray tensors, JsonArray expected)
            throws IOException {
        QuantPreset p = QuantPreset.parse(preset);
        try (GgufFile f = Gguf.open(SharedModels.require(model.replaceFirst("#.*", "")))) {
            QuantPreset.Model facts = GgufQuantize.facts(f);
            if (expertCount >= 0) {
                facts = new QuantPreset.Model(facts.layers(), facts.gqa(), expertCount, facts.tiedOutput(),
                        facts.attnVs());
            }
            List<String> wrong = new ArrayList<>();
            for (int i = 0; i < tensors.size(); i++) {
                String name = tensors.get(i).getAsString();
                GgufTensorInfo t = f.info(name);
                long[] shape = java.util.Arrays.stream(t.shape().dims()).asLongStream().toArray();
                String got = p.typeFor(name, shape, t.type(), facts, false).name();
                String want = expected.get(i).getAsString();
                if (!got.equals(want)) {
                    wrong.add(name + ": llama.cpp " + want + ", Interlayer " + got);
                }
            }
            assertEquals(List.of(), wrong, model + " " + preset);
        }
    }
}
