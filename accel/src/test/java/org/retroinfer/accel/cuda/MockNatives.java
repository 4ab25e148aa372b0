package org.retroinfer.accel.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Builds the mock libcuda and libcublas (src/test/c) with gcc, once per test JVM, into target/mock-native.
 * Without gcc the tests that need them are skipped with a message.
 */
public final class MockNatives {
    private static final Path SOURCES = Path.of("src/test/c");
    private static final Path OUT = Path.of("target/mock-native");
    private static Path cuda;
    private static Path cublas;
    private static String failure;

    private MockNatives() {}

    public static synchronized Path libcuda() {
        build();
        return cuda;
    }

    public static synchronized Path libcublas() {
        build();
        return cublas;
    }

    private static void build() {
        if (cuda == null && failure == null) {
            try {
                Files.createDirectories(OUT);
                cuda = compile("mock_cuda.c", "libcuda_mock.so");
                cublas = compile("mock_cublas.c", "libcublas_mock.so");
            } catch (IOException e) {
                failure = "cannot build the mock CUDA libraries: " + e.getMessage();
            }
        }
        if (failure != null) {
            System.out.println(failure);
        }
        Assumptions.assumeTrue(failure == null, () -> failure);
    }

    private static Path compile(String source, String library) throws IOException {
        Path out = OUT.resolve(library).toAbsolutePath();
        try {
            Process p = new ProcessBuilder(List.of("gcc", "-O1", "-shared", "-fPIC", "-Wall", "-o", out.toString(),
                    SOURCES.resolve(source).toString())).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("gcc failed on " + source + ":\n" + log);
            }
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("error=2")) {
                throw new IOException("gcc is not installed, so the mock-driver tests are skipped");
            }
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return out;
    }
}
