package dev.interlayer.models.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.interlayer.models.load.Fixture;
import java.io.IOException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link PythonStrftime} equals CPython's {@code datetime.strftime} (C locale, glibc) on the cases of
 * reference/chat/strftime_reference.py, and templates see {@code strftime_now} as Hugging Face gives it.
 */
class PythonStrftimeTest {

    @Test
    void equalsPythonOnEveryReferenceCase() throws IOException {
        JsonObject fixture = Fixture.json("/golden/chat/strftime.json");
        int n = 0;
        for (JsonElement e : fixture.getAsJsonArray("cases")) {
            JsonObject c = e.getAsJsonObject();
            LocalDateTime t = LocalDateTime.parse(c.get("datetime").getAsString());
            String format = c.get("format").getAsString();
            assertEquals(c.get("expected").getAsString(), PythonStrftime.format(format, t), format + " at " + t);
            n++;
        }
        assertTrue(n > 200, "cases read: " + n);
    }

    @Test
    void unsupportedDirectivesAndALoneTrailingPercentAreRefused() {
        LocalDateTime t = LocalDateTime.of(2024, 7, 26, 9, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PythonStrftime.format("%Q", t));
        assertTrue(e.getMessage().contains("%Q") && e.getMessage().contains("supported"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PythonStrftime.format("100%", t));
    }

    @Test
    void llama31StyleTemplatesPrintTodaysDate() {
        // the date block of the Llama 3.1 / 3.2 templates: today's date when strftime_now is defined
        ChatTemplate t = new ChatTemplate("{%- if not date_string is defined %}{%- if strftime_now is defined %}"
                + "{%- set date_string = strftime_now(\"%d %b %Y\") %}{%- else %}{%- set date_string = \"26 Jul 2024\" %}"
                + "{%- endif %}{%- endif %}Today Date: {{ date_string }}", "", "");
        LocalDate before = LocalDate.now();
        String out = t.render(List.of(Map.of("role", "user", "content", "hi")), true);
        LocalDate after = LocalDate.now();
        String expectedBefore = "Today Date: " + PythonStrftime.format("%d %b %Y", before.atStartOfDay());
        String expectedAfter = "Today Date: " + PythonStrftime.format("%d %b %Y", after.atStartOfDay());
        assertTrue(out.equals(expectedBefore) || out.equals(expectedAfter), out);   // a render across midnight
    }
}
