package dev.interlayer.models.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Jinja 3.1's {@code items} filter ({@code {% for k, v in call.arguments | items %}}, as in Llama 3.1's tool-call
 * branch), which jinjava lacks: the (key, value) pairs of a mapping in order, an empty list for undefined/none.
 */
final class ItemsFilter extends NamedFilter {
    ItemsFilter() {
        super("items");
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        List<List<Object>> pairs = new ArrayList<>();
        if (var instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                List<Object> pair = new ArrayList<>(2);
                pair.add(e.getKey());
                pair.add(e.getValue());
                pairs.add(pair);
            }
        } else if (var != null) {
            throw new IllegalArgumentException("items: expected a mapping, got " + var.getClass().getSimpleName());
        }
        return pairs;
    }
}
