package org.retroinfer.examples;

import java.io.PrintStream;

/** One subcommand of {@code retroinfer}. */
interface Command {
    String name();

    /** One line for the command list. */
    String summary();

    /** The full text of {@code retroinfer <name> --help}. */
    String help();

    /** Whether the command takes {@code --threads N}, which must reach the compute pool before it starts. */
    default boolean takesThreads() {
        return false;
    }

    /** Runs the command and returns its exit code; user mistakes throw {@link UsageException}. */
    int run(String[] args, PrintStream out, PrintStream err) throws Exception;
}
