package org.retroinfer.examples;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs {@code retroinfer} in-process and keeps what it printed. */
record CliHarness(int exitCode, String out, String err) {
    /**
     * Checks a refused command line: exit code 2 and exactly one line on standard error, no stack trace, mentioning
     * each of {@code mustMention}; prints the line.
     */
    static void assertRefused(CliHarness r, String... mustMention) {
        org.junit.jupiter.api.Assertions.assertEquals(2, r.exitCode(), "exit code; stderr: " + r.err());
        String[] lines = r.err().strip().split("\n");
        org.junit.jupiter.api.Assertions.assertEquals(1, lines.length, "one line on stderr: " + r.err());
        org.junit.jupiter.api.Assertions.assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
        for (String s : mustMention) {
            org.junit.jupiter.api.Assertions.assertTrue(lines[0].contains(s), "'" + s + "' in: " + lines[0]);
        }
        System.out.println(lines[0]);
    }

    static CliHarness run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Main.run(args, o, e);
        }
        return new CliHarness(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
