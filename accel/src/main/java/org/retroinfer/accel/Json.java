package org.retroinfer.accel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A minimal JSON builder for the GPU check report (this module has no JSON dependency). */
final class Json {
    private Json() {}

    /** An ordered JSON object. */
    static final class Obj {
        private final Map<String, Object> fields = new LinkedHashMap<>();

        Obj put(String key, Object value) {
            fields.put(key, value);
            return this;
        }

        Object get(String key) {
            return fields.get(key);
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            write(this, sb, "");
            return sb.toString();
        }
    }

    static Obj object() {
        return new Obj();
    }

    static List<Object> array() {
        return new ArrayList<>();
    }

    private static void write(Object v, StringBuilder sb, String indent) {
        switch (v) {
            case null -> sb.append("null");
            case Obj o -> {
                sb.append("{");
                String inner = indent + "  ";
                boolean first = true;
                for (Map.Entry<String, Object> e : o.fields.entrySet()) {
                    sb.append(first ? "\n" : ",\n").append(inner);
                    string(e.getKey(), sb);
                    sb.append(": ");
                    write(e.getValue(), sb, inner);
                    first = false;
                }
                sb.append(first ? "}" : "\n" + indent + "}");
            }
            case List<?> l -> {
                sb.append("[");
                String inner = indent + "  ";
                for (int i = 0; i < l.size(); i++) {
                    sb.append(i == 0 ? "\n" : ",\n").append(inner);
                    write(l.get(i), sb, inner);
                }
                sb.append(l.isEmpty() ? "]" : "\n" + indent + "]");
            }
            case Double d -> sb.append(Double.isFinite(d) ? String.format("%.4f", d) : "null");
            case Float f -> sb.append(Float.isFinite(f) ? String.format("%.4f", f) : "null");
            case Number n -> sb.append(n);
            case Boolean b -> sb.append(b);
            default -> string(v.toString(), sb);
        }
    }

    private static void string(String s, StringBuilder sb) {
        sb.append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
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
}
