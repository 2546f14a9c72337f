package dev.interlayer.models.chat;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * The Python {@code str} methods that chat templates call ({@code message['content'].strip()},
 * {@code .startswith('<')}, {@code .split('</think>')}, ...), which jinjava lacks because its strings are
 * Java strings: resolved before jinjava's own resolver, so {@code s.upper()} means Python's {@code upper}.
 * Semantics follow the Python documentation for {@code str}; whitespace is Python's (Unicode whitespace).
 */
final class PythonStringMethods extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String s) || method == null) {
            return null;
        }
        Object[] p = params == null ? new Object[0] : params;
        Object r = call(s, method.toString(), p);
        if (r != null) {
            context.setPropertyResolved(true);
        }
        return r;
    }

    // The result of s.name(*p), or null when this is not a Python str method we provide (jinjava then tries).
    static Object call(String s, String name, Object[] p) {
        return switch (name) {
            case "strip" -> rstrip(lstrip(s, chars(p)), chars(p));
            case "lstrip" -> lstrip(s, chars(p));
            case "rstrip" -> rstrip(s, chars(p));
            case "startswith" -> affix(s, p, true);
            case "endswith" -> affix(s, p, false);
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s
                    : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "split" -> split(s, p);
            case "replace" -> p.length == 2 ? s.replace(str(p[0]), str(p[1])) : null;
            case "find" -> p.length == 1 ? (Object) s.indexOf(str(p[0])) : null;
            case "count" -> p.length == 1 ? (Object) count(s, str(p[0])) : null;
            case "join" -> p.length == 1 && p[0] instanceof Iterable<?> it ? join(s, it) : null;
            case "isspace" -> !s.isEmpty() && s.isBlank();
            case "isdigit" -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            default -> null;
        };
    }

    // Characters to strip: null = whitespace (Python's default, also for an explicit None).
    private static String chars(Object[] p) {
        return p.length == 0 || p[0] == null ? null : str(p[0]);
    }

    private static String str(Object o) {
        return String.valueOf(o);
    }

    private static boolean strippable(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) || Character.isSpaceChar(c) : chars.indexOf(c) >= 0;
    }

    private static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length() && strippable(s.charAt(i), chars)) {
            i++;
        }
        return s.substring(i);
    }

    private static String rstrip(String s, String chars) {
        int j = s.length();
        while (j > 0 && strippable(s.charAt(j - 1), chars)) {
            j--;
        }
        return s.substring(0, j);
    }

    // startswith/endswith with a string or a tuple/list of strings (Python accepts both).
    private static Object affix(String s, Object[] p, boolean start) {
        if (p.length != 1) {
            return null;
        }
        if (p[0] instanceof Iterable<?> options) {
            for (Object o : options) {
                if (start ? s.startsWith(str(o)) : s.endsWith(str(o))) {
                    return true;
                }
            }
            return false;
        }
        return start ? s.startsWith(str(p[0])) : s.endsWith(str(p[0]));
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(prevCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevCased = Character.isLetter(c);
        }
        return sb.toString();
    }

    // str.split(sep=None, maxsplit=-1): None splits on runs of whitespace and drops empty ends.
    private static List<String> split(String s, Object[] p) {
        String sep = p.length == 0 || p[0] == null ? null : str(p[0]);
        int max = p.length > 1 && p[1] instanceof Number n ? n.intValue() : -1;
        List<String> out = new ArrayList<>();
        if (sep == null) {
            String rest = lstrip(s, null);
            while (!rest.isEmpty()) {
                int k = 0;
                while (k < rest.length() && !strippable(rest.charAt(k), null)) {
                    k++;
                }
                if (max >= 0 && out.size() == max) {
                    out.add(rest);
                    break;
                }
                out.add(rest.substring(0, k));
                rest = lstrip(rest.substring(k), null);
            }
            return out;
        }
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("str.split: empty separator");
        }
        int from = 0;
        for (int at; (max < 0 || out.size() < max) && (at = s.indexOf(sep, from)) >= 0; from = at + sep.length()) {
            out.add(s.substring(from, at));
        }
        out.add(s.substring(from));
        return out;
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.length() + 1;
        }
        int c = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            c++;
        }
        return c;
    }

    private static String join(String sep, Iterable<?> items) {
        StringBuilder sb = new StringBuilder();
        boolean first = true;
        for (Object o : items) {
            if (!first) {
                sb.append(sep);
            }
            sb.append(o);
            first = false;
        }
        return sb.toString();
    }

    // ---- the rest of ELResolver: this resolver only invokes methods ----

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // never resolves a property
    }
}
