package dev.interlayer.models.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.interlayer.models.SharedModels;
import dev.interlayer.models.io.Gguf;
import dev.interlayer.models.io.GgufFile;
import dev.interlayer.models.load.Fixture;
import dev.interlayer.models.tokenizer.Tokenizer;
import dev.interlayer.models.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Chat templates rendered by jinjava equal Python jinja2's rendering in Hugging Face's environment
 * (reference/chat/render_templates.py), character for character: our own templates in the idioms of Llama 3,
 * Qwen2, Mistral, Gemma and Phi-3 (whitespace control, trim/lstrip blocks, namespace, slicing, raise_exception,
 * Python str methods) and the real Phi-3 template read from a GGUF file.
 */
class ChatTemplateTest {

    static JsonObject fixture() throws IOException {
        return Fixture.json("/golden/chat/templates.json");
    }

    static JsonObject template(String name) throws IOException {
        for (JsonElement e : fixture().getAsJsonArray("templates")) {
            if (e.getAsJsonObject().get("name").getAsString().equals(name)) {
                return e.getAsJsonObject();
            }
        }
        throw new AssertionError("no template " + name + " in the fixture");
    }

    static List<Map<String, Object>> messages(JsonObject c) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (JsonElement m : c.getAsJsonArray("messages")) {
            Map<String, Object> map = new LinkedHashMap<>();
            for (var kv : m.getAsJsonObject().entrySet()) {
                map.put(kv.getKey(), kv.getValue().getAsString());
            }
            out.add(map);
        }
        return out;
    }

    // Renders every case of one fixture template and compares text or error message exactly; returns the count.
    private static int check(ChatTemplate t, JsonObject tpl) {
        int n = 0;
        for (JsonElement e : tpl.getAsJsonArray("cases")) {
            JsonObject c = e.getAsJsonObject();
            String what = tpl.get("name").getAsString() + "/" + c.get("conversation").getAsString() + "/agp="
                    + c.get("add_generation_prompt").getAsBoolean();
            boolean agp = c.get("add_generation_prompt").getAsBoolean();
            if (c.has("error")) {
                ChatTemplateException ex = assertThrows(ChatTemplateException.class, () -> t.render(messages(c), agp),
                        what);
                assertEquals(c.get("error").getAsString(), ex.getMessage(), what);
            } else {
                assertEquals(c.get("expected").getAsString(), t.render(messages(c), agp), what);
            }
            n++;
        }
        return n;
    }

    /**
     * Message text is data, as in Jinja: template syntax inside it is printed, not run (jinjava re-renders such
     * output unless told not to; then "{{ 1 + 1 }}" came out "2" and a nested loop in a message ran).
     */
    @Test
    void templateSyntaxInsideMessagesStaysLiteral() {
        ChatTemplate t = new ChatTemplate("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}",
                "<s>", "</s>");
        String content = "{{ 1 + 1 }} and {% for a in range(1000000) %}x{% endfor %} {{ name }}";
        assertEquals("<user>" + content, t.render(List.of(Map.of("role", "user", "content", content)), false));
    }

    @Test
    void ownTemplatesInEachFamilysIdiomMatchJinja2() throws IOException {
        int n = 0;
        for (String name : List.of("llama3", "qwen2", "mistral", "gemma", "phi3", "python_methods")) {
            JsonObject tpl = template(name);
            ChatTemplate t = new ChatTemplate(tpl.get("source").getAsString(), tpl.get("bos_token").getAsString(),
                    tpl.get("eos_token").getAsString());
            n += check(t, tpl);
        }
        assertEquals(6 * 14, n);
    }

    @Test
    void realPhi3TemplateFromGgufMatchesJinja2() throws IOException {
        JsonObject tpl = template("phi3-gguf");
        Path path = SharedModels.require(tpl.get("gguf").getAsString());
        Tokenizer tok;
        try (GgufFile f = Gguf.open(path)) {
            tok = Tokenizers.fromGguf(f.metadata());
        }
        ChatTemplate t = ChatTemplates.find(path, tok).orElseThrow();
        assertEquals(tpl.get("bos_token").getAsString(), tok.tokenText(tok.bos().getAsInt()));
        assertEquals(tpl.get("eos_token").getAsString(), tok.tokenText(tok.eos().getAsInt()));
        assertEquals(14, check(t, tpl));
    }

    @Test
    void ggufWithoutTemplateHasNone() throws IOException {
        Path path = SharedModels.require("stories260K/stories260K.gguf");
        assertTrue(ChatTemplates.find(path, null).isEmpty());
    }

    @Test
    void plainFormatIsTheDocumentedOne() {
        List<Map<String, Object>> msgs = List.of(Map.of("role", "system", "content", "Be brief."),
                Map.of("role", "user", "content", "Hi"), Map.of("role", "assistant", "content", "Hello"),
                Map.of("role", "user", "content", "Bye"));
        // the format stated in ChatTemplates.plainFormat's Javadoc
        assertEquals("Be brief.\n\nUser: Hi\nAssistant: Hello\nUser: Bye\nAssistant:",
                ChatTemplates.plainFormat(msgs, true));
        assertEquals("User: Hi\n", ChatTemplates.plainFormat(List.of(Map.of("role", "user", "content", "Hi")), false));
    }

    @Test
    void templateThatCannotBeEvaluatedFailsWithAClearError() {
        ChatTemplate t = new ChatTemplate("{{ messages[0]['content'].nosuchmethod() }}", "", "");
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> t.render(List.of(Map.of("role", "user", "content", "x")), true));
        assertTrue(e.getMessage().startsWith("chat template error"), e.getMessage());
    }
}
