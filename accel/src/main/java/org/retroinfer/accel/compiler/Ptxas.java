package org.retroinfer.accel.compiler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * CUDA's PTX assembler, when installed: the check that generated PTX is valid for a target. Public so that
 * modules with their own kernels (kernels) run the same check as accel's AllKernelsAssembleTest.
 */
public final class Ptxas {
    /** The assembler's verdict: exit status and its log (with -v: registers, shared memory, spills). */
    public record Result(int exitCode, String log) {}

    private static final Path EXECUTABLE = find();

    private Ptxas() {}

    private static Path find() {
        String path = System.getenv().getOrDefault("PATH", "");
        Stream<Path> candidates = Stream.concat(Stream.of(path.split(java.io.File.pathSeparator)).filter(s -> !s.isEmpty())
                .map(p -> Path.of(p, "ptxas")), Stream.of(Path.of("/usr/local/cuda/bin/ptxas"), Path.of("/usr/local/bin/ptxas")));
        return candidates.filter(Files::isExecutable).findFirst().orElse(null);
    }

    public static boolean available() {
        return EXECUTABLE != null;
    }

    /** Why tests that need ptxas are skipped. */
    public static String missingMessage() {
        return "ptxas is not on the PATH (nor in /usr/local/cuda/bin): PTX assembly checks skipped; install the CUDA toolkit to run them";
    }

    /**
     * Assembles each kernel for the target it was compiled for, as concurrent ptxas processes (separate processes keep a
     * machine's cores busy where one at a time used one): the results in the kernels' order.
     */
    public static List<Result> assembleAll(List<CompiledKernel> kernels) {
        return kernels.parallelStream().map(k -> assemble(k.ptx(), k.key().options().target())).toList();
    }

    public static Result assemble(String ptx, Target target) {
        try {
            Path dir = Files.createTempDirectory("ptxas");
            Path in = dir.resolve("kernel.ptx");
            Files.writeString(in, ptx);
            Path out = dir.resolve("kernel.cubin");
            Process p = new ProcessBuilder(List.of(EXECUTABLE.toString(), "-arch=" + target.smName(), "-v", in.toString(),
                    "-o", out.toString())).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("ptxas did not finish within 60 s");
            }
            Files.deleteIfExists(out);
            Files.delete(in);
            Files.delete(dir);
            return new Result(p.exitValue(), log);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run ptxas", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
