package org.retroinfer.examples;

import org.retroinfer.kernels.ComputePool;

/**
 * {@code --threads N}: the compute pool's size. The pool is sized once, when it first starts, from
 * {@code -Dretroinfer.threads}; so {@link Main} sets that property from the flag before anything
 * starts the pool, and the command checks that the pool got the size asked for.
 */
final class ThreadsFlag {
    static final String NAME = "threads";
    static final String HELP = """
              --threads N        compute threads (default: every core, or -Dretroinfer.threads)
            """;

    private ThreadsFlag() {}

    /** Passes a well-formed {@code --threads N} of the command line on to the pool, before it starts. */
    static void requestBeforeStart(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String value = null;
            if (args[i].equals("--" + NAME) && i + 1 < args.length) {
                value = args[i + 1];
            } else if (args[i].startsWith("--" + NAME + "=")) {
                value = args[i].substring(NAME.length() + 3);
            }
            if (value != null && value.trim().matches("[1-9][0-9]{0,5}")) {
                System.setProperty("retroinfer.threads", value.trim());
            }
        }
    }

    /** The threads asked for (the pool's size where the flag is absent), checked against the running pool. */
    static int read(Options o) {
        int threads = o.integer(NAME, ComputePool.threads(), 1, 4096);
        if (threads != ComputePool.threads()) {
            throw o.error("--threads " + threads + " cannot take effect: the compute pool already runs "
                    + ComputePool.threads() + " threads in this JVM; start the command in a new JVM");
        }
        return threads;
    }
}
