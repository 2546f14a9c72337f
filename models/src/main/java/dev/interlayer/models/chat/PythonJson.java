package dev.interlayer.models.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import java.util.Map;

/**
 * The {@code tojson} filter as Hugging Face defines it for chat templates: Python's
 * {@code json.dumps(x, ensure_ascii=False, indent=indent)}, i.e. separators {@code ", "} and {@code ": "} (or
 * {@code ","} and newlines with an indent), non-ASCII text kept, floats in Python's repr. jinjava's own
 * {@code tojson} writes compact JSON, which would change the prompt of a template that embeds tool definitions.
 */
final class PythonJson extends NamedFilter {
    PythonJson() {
        super("tojson");
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        Integer indent = args.length > 0 && args[0] != null && !args[0].equals("None") ? Integer.valueOf(args[0]) : null;
        return dumps(var, indent);
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
        return dumps(var, indent instanceof Number n ? Integer.valueOf(n.intValue()) : null);
    }

    /** {@code json.dumps(value, ensure_ascii=False, indent=indent)}; indent null = one line. */
    static String dumps(Object value, Integer indent) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, indent, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, Integer indent, int level) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (v instanceof Double || v instanceof Float) {
            sb.append(pythonFloat(((Number) v).doubleValue()));
        } else if (v instanceof Number n) {
            sb.append(n);
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            int i = 0;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                separate(sb, i++, indent, level + 1);
                string(sb, String.valueOf(e.getKey()));
                sb.append(": ");
                write(sb, e.getValue(), indent, level + 1);
            }
            close(sb, '}', m.isEmpty(), indent, level);
        } else if (v instanceof Iterable<?> it) {
            boolean empty = !it.iterator().hasNext();
            sb.append('[');
            int i = 0;
            for (Object o : it) {
                separate(sb, i++, indent, level + 1);
                write(sb, o, indent, level + 1);
            }
            close(sb, ']', empty, indent, level);
        } else {
            string(sb, v.toString());
        }
    }

    // Before item i: ", " on one line; with an indent, "," and a new line indented to the level.
    private static void separate(StringBuilder sb, int i, Integer indent, int level) {
        if (indent == null) {
            sb.append(i > 0 ? ", " : "");
        } else {
            sb.append(i > 0 ? ",\n" : "\n").append(" ".repeat(indent * level));
        }
    }

    private static void close(StringBuilder sb, char c, boolean empty, Integer indent, int level) {
        if (indent != null && !empty) {
            sb.append('\n').append(" ".repeat(indent * level));
        }
        sb.append(c);
    }

    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    // Python's float repr: shortest round-trip digits, exponent form as 1e-05 / 1e+16.
    private static String pythonFloat(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        double a = Math.abs(d);
        if (a == 0 || (a >= 1e-4 && a < 1e16)) {
            return new java.math.BigDecimal(Double.toString(d)).toPlainString().replaceAll("(\\.\\d*?)0+$", "$1")
                    .replaceAll("\\.$", ".0");
        }
        String s = Double.toString(d);                    // e.g. 1.0E-5, 1.234E20
        int e = s.indexOf('E');
        String mant = s.substring(0, e).replaceAll("\\.0$", "");
        int exp = Integer.parseInt(s.substring(e + 1));
        return mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }
}
