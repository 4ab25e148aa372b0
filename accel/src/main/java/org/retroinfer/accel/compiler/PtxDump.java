package org.retroinfer.accel.compiler;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes generated PTX and driver JIT logs for inspection when {@code -Dretroinfer.accel.dumpPtx=DIR} is
 * set: {@code DIR/<Class>.<method>[-p<i>=<constant>].<sm>.ptx} and {@code .jit.log} next to it.
 */
public final class PtxDump {
    public static final String PROPERTY = "retroinfer.accel.dumpPtx";

    private PtxDump() {}

    /** The dump directory, or null when dumping is off. */
    public static Path directory() {
        String dir = System.getProperty(PROPERTY);
        return dir == null || dir.isBlank() ? null : Path.of(dir);
    }

    static void writePtx(CompiledKernel k) {
        write(k.key().shortName() + ".ptx", k.ptx());
    }

    /** Stores the driver's JIT log (registers, spills, errors) for a kernel the runtime loaded. */
    public static void writeJitLog(CompiledKernel k, String log) {
        write(k.key().shortName() + ".jit.log", log);
    }

    private static void write(String name, String text) {
        Path dir = directory();
        if (dir == null) {
            return;
        }
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(name), text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(name) + " (-D" + PROPERTY + ")", e);
        }
    }
}
