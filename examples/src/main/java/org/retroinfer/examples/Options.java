package org.retroinfer.examples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The options of one command ({@code --name value} and {@code --flag}), each checked as it is
 * read: a wrong value names its option, what is wrong, and what is allowed.
 */
final class Options {
    private final String command;
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flags = new HashSet<>();

    private Options(String command) {
        this.command = command;
    }

    /** Parses {@code args} given the options that take a value and the plain flags. */
    static Options parse(String command, String[] args, Set<String> valued, Set<String> flagNames) {
        Options o = new Options(command);
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                throw o.error("unexpected argument '" + arg + "'; options start with --");
            }
            String name = arg.substring(2);
            String inline = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                inline = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flagNames.contains(name) && inline == null) {
                o.flags.add(name);
            } else if (valued.contains(name)) {
                String value = inline;
                if (value == null) {
                    if (i + 1 >= args.length) {
                        throw o.error("--" + name + " needs a value");
                    }
                    value = args[++i];
                }
                if (o.values.put(name, value) != null) {
                    throw o.error("--" + name + " is given twice");
                }
            } else {
                throw o.error("unknown option --" + name + "; see retroinfer " + command + " --help");
            }
        }
        return o;
    }

    UsageException error(String message) {
        return new UsageException(command + ": " + message);
    }

    boolean flag(String name) {
        return flags.contains(name);
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    Optional<String> text(String name) {
        return Optional.ofNullable(values.get(name));
    }

    String requireText(String name, String what) {
        return text(name).orElseThrow(() -> error("--" + name + " is required (" + what + ")"));
    }

    /** An existing file or directory. */
    Path existingPath(String name, String what) {
        Path p = Path.of(requireText(name, what));
        if (!Files.exists(p)) {
            throw error("--" + name + " " + p + " does not exist");
        }
        return p;
    }

    int integer(String name, int fallback, int min, int max) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        return checkedInteger(name, v, min, max);
    }

    long longValue(String name, long fallback) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw error("--" + name + " must be an integer, got '" + v + "'");
        }
    }

    double number(String name, double fallback, double min, double max, boolean minInclusive) {
        return number(name, fallback, min, minInclusive, max, true);
    }

    /** A number in the interval from {@code min} to {@code max}, each end open or closed. */
    double number(String name, double fallback, double min, boolean minInclusive, double max, boolean maxInclusive) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        double d;
        try {
            d = Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw error("--" + name + " must be a number, got '" + v + "'");
        }
        boolean aboveMin = minInclusive ? d >= min : d > min;
        boolean belowMax = maxInclusive ? d <= max : d < max;
        if (!(aboveMin && belowMax)) {
            throw error("--" + name + " must be in " + (minInclusive ? "[" : "(") + format(min) + ", " + format(max)
                    + (maxInclusive ? "]" : ")") + ", got " + v);
        }
        return d;
    }

    /** A comma-separated list of integers, each in [min, max]; sizes may end in k (×1024). */
    List<Integer> sizes(String name, int min, int max) {
        String v = requireText(name, "comma-separated sizes such as 512,4k");
        List<Integer> out = new ArrayList<>();
        for (String part : v.split(",")) {
            String p = part.trim().toLowerCase();
            int factor = 1;
            if (p.endsWith("k")) {
                factor = 1024;
                p = p.substring(0, p.length() - 1);
            }
            long n;
            try {
                n = Long.parseLong(p) * factor;
            } catch (NumberFormatException e) {
                throw error("--" + name + " must be a comma-separated list of sizes, got '" + v + "'");
            }
            if (n < min || n > max) {
                throw error("--" + name + " sizes must be in [" + min + ", " + max + "], got " + part.trim());
            }
            out.add((int) n);
        }
        return out;
    }

    private int checkedInteger(String name, String v, int min, int max) {
        long n;
        try {
            n = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw error("--" + name + " must be an integer, got '" + v + "'");
        }
        if (n < min || n > max) {
            throw error("--" + name + " must be in [" + min + ", " + max + "], got " + v);
        }
        return (int) n;
    }

    private static String format(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
