package dev.interlayer.models.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;

/**
 * {@code length} (and {@code count}) as Python's {@code len}: a string counts Unicode code points, not UTF-16
 * units as jinjava's does (an emoji is 1, not 2); collections, mappings and arrays count their elements.
 */
final class LengthFilter extends NamedFilter {
    LengthFilter(String name) {
        super(name);
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        if (var == null) {
            return 0;
        }
        if (var instanceof CharSequence s) {
            return Character.codePointCount(s, 0, s.length());
        }
        if (var instanceof Collection<?> c) {
            return c.size();
        }
        if (var instanceof Map<?, ?> m) {
            return m.size();
        }
        if (var.getClass().isArray()) {
            return java.lang.reflect.Array.getLength(var);
        }
        if (var instanceof Iterable<?> it) {
            int n = 0;
            for (Iterator<?> i = it.iterator(); i.hasNext(); i.next()) {
                n++;
            }
            return n;
        }
        return Character.codePointCount(var.toString(), 0, var.toString().length());
    }
}
