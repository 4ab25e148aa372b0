package org.retroinfer.examples;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import org.retroinfer.eval.EvalInputException;
import org.retroinfer.kernels.ComputePool;
import org.retroinfer.kernels.VectorSupport;
import org.retroinfer.model.weights.ModelFileException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code retroinfer} command. User mistakes (bad flags, unusable model files) end with one
 * line on standard error and exit code 2; internal failures with exit code 1 and the stack trace
 * in the log.
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);
    private static final List<Command> COMMANDS = List.of(new GenerateCommand(), new BenchCommand(), new DemoCommand(),
            new FidelityCommand(), new EvalCommand(), new ConvertCommand(), new ServeCommand(), new ServeBenchCommand());

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            out.print(usage());
            return args.length == 0 ? 2 : 0;
        }
        Command command = COMMANDS.stream().filter(c -> c.name().equals(args[0])).findFirst().orElse(null);
        if (command == null) {
            err.println("retroinfer: unknown command '" + args[0] + "'; commands: "
                    + String.join(", ", COMMANDS.stream().map(Command::name).toList()));
            return 2;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        if (Arrays.asList(rest).contains("--help") || Arrays.asList(rest).contains("-h")) {
            out.print(command.help());
            return 0;
        }
        if (command.takesThreads()) {
            ThreadsFlag.requestBeforeStart(rest);
        }
        try {
            checkVectorApi();
            return command.run(rest, out, err);
        } catch (UsageException | ModelFileException | EvalInputException e) {
            err.println("retroinfer " + (e instanceof UsageException ? "" : command.name() + ": ") + e.getMessage());
            return 2;
        } catch (Exception | Error e) {
            LOG.error("{} failed", command.name(), e);
            err.println("retroinfer " + command.name() + ": internal error: " + e);
            return 1;
        }
    }

    /** Fails unless the Vector API is usable, and says which species the kernels run with. */
    private static void checkVectorApi() {
        String species;
        try {
            species = VectorSupport.requireLive();
        } catch (NoClassDefFoundError e) {
            throw new UsageException("the Vector API is missing: start Java with --add-modules jdk.incubator.vector "
                    + "(the ./retroinfer launcher does)");
        } catch (IllegalStateException e) {
            throw new UsageException(e.getMessage());
        }
        LOG.info("Vector API: {}; {} compute threads", species, ComputePool.threads());
    }

    static String usage() {
        StringBuilder b = new StringBuilder("""
                RetroInfer for Java: long-context LLM decoding with the KV cache as vector storage.

                usage: retroinfer <command> [options]     (retroinfer <command> --help for its options)

                commands:
                """);
        for (Command c : COMMANDS) {
            b.append(String.format("  %-12s %s%n", c.name(), c.summary()));
        }
        b.append("""

                Environment: RETROINFER_JAVA_OPTS adds JVM options, e.g. -Dretroinfer.threads=2 (compute threads)
                or -Dretroinfer.vectorBits=256 (Vector API width).
                """);
        return b.toString();
    }
}
