import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face's Rust tokenizers (through DJL's JNI binding) as a reference: for each tokenizer.json named
 * on the command line and each text of the texts file, writes the ids with and without the template's special
 * tokens and the decoded text (special tokens skipped / kept). Special-token text in the input is split out
 * (the Rust library always does so for special added tokens).
 *
 * Usage: mvn -q compile exec:java -Dexec.mainClass=HfRustReference -Dexec.args="TEXTS.json OUT.json a.json b.json ..."
 *   TEXTS.json: a JSON array of strings. Each variant is named after its file (spm_bpe_legacy.json -> legacy, uni_bytes.json -> uni_bytes).
 */
public final class HfRustReference {
    public static void main(String[] args) throws Exception {
        Gson gson = new GsonBuilder().disableHtmlEscaping().create();
        List<String> texts = new ArrayList<>();
        for (JsonElement e : JsonParser.parseString(Files.readString(Path.of(args[0]))).getAsJsonArray()) {
            texts.add(e.getAsString());
        }
        JsonObject variants = new JsonObject();
        for (int f = 2; f < args.length; f++) {
            Path file = Path.of(args[f]);
            String name = file.getFileName().toString().replaceFirst("^spm_bpe_", "").replace(".json", "");
            try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(file,
                    Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true"))) {
                JsonArray cases = new JsonArray();
                for (String text : texts) {
                    Encoding with = tok.encode(text, true, false);
                    Encoding without = tok.encode(text, false, false);
                    long[] ids = with.getIds();
                    JsonObject c = new JsonObject();
                    c.addProperty("text", text);
                    c.add("ids", gson.toJsonTree(ids));
                    c.add("ids_no_special", gson.toJsonTree(without.getIds()));
                    c.addProperty("decoded", tok.decode(ids, true));
                    c.addProperty("decoded_special", tok.decode(ids, false));
                    cases.add(c);
                }
                variants.add(name, cases);
            }
        }
        // One case per line, so that a regenerated fixture diffs readably.
        StringBuilder sb = new StringBuilder("{\"generator\": ").append(gson.toJson("Hugging Face tokenizers (Rust) via "
                + "ai.djl.huggingface:tokenizers 0.38.0 (reference/tokenizer/hf-rust)")).append(", \"variants\": {\n");
        int v = 0;
        for (Map.Entry<String, JsonElement> e : variants.entrySet()) {
            sb.append(v++ > 0 ? ",\n" : "").append("  ").append(gson.toJson(e.getKey())).append(": [\n");
            JsonArray cases = e.getValue().getAsJsonArray();
            for (int i = 0; i < cases.size(); i++) {
                sb.append("   ").append(gson.toJson(cases.get(i))).append(i + 1 < cases.size() ? ",\n" : "\n");
            }
            sb.append("  ]");
        }
        Files.writeString(Path.of(args[1]), sb.append("\n}}\n").toString(), StandardCharsets.UTF_8);
        System.out.println(variants.size() + " variants x " + texts.size() + " texts -> " + args[1]);
    }
}
