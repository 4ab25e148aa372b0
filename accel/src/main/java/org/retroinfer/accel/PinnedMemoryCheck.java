package org.retroinfer.accel;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.retroinfer.accel.cuda.DeviceBuffer;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.cuda.PinnedBuffer;

/**
 * Pinned host memory on the GPU machine, both ways {@link PinnedBuffer} gets it: how long {@code total} GiB take to
 * allocate and free in buffers of {@code chunk} GiB (one thread, and several at once), whether the kernel gave huge
 * pages, whether copies from it run at the link's rate, and whether the mapped device address reads the same bytes
 * as the host view (a device-to-device copy through it, compared on the host).
 *
 * <pre>
 * java ... org.retroinfer.accel.PinnedMemoryCheck [total GiB, 32] [chunk GiB, 2] [threads, 8]
 * </pre>
 * Exit status 0 when both sources read back right, 1 otherwise.
 */
public final class PinnedMemoryCheck {
    private static final long GIB = 1L << 30;
    private static final long CHECKED = 256L << 20;

    private PinnedMemoryCheck() {}

    public static void main(String[] args) throws Exception {
        long total = (args.length > 0 ? Long.parseLong(args[0]) : 32) * GIB;
        long chunk = (args.length > 1 ? Long.parseLong(args[1]) : 2) * GIB;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        System.out.println("transparent huge pages: " + read("/sys/kernel/mm/transparent_hugepage/enabled")
                + "; defrag: " + read("/sys/kernel/mm/transparent_hugepage/defrag"));
        boolean ok = true;
        try (Gpu gpu = Gpu.open(); DeviceBuffer device = gpu.allocate(CHECKED)) {
            System.out.println("device: " + gpu.info());
            for (PinnedBuffer.Source source : PinnedBuffer.Source.values()) {
                for (int t : new int[] {1, threads}) {
                    ok &= measure(gpu, device, source, total, chunk, t);
                }
            }
        }
        System.out.println(ok ? "ALL OK" : "FAILED");
        System.exit(ok ? 0 : 1);
    }

    private static boolean measure(Gpu gpu, DeviceBuffer device, PinnedBuffer.Source source, long total, long chunk,
            int threads) throws Exception {
        int count = Math.toIntExact(total / chunk);
        long hugeBefore = anonHugeBytes();
        List<PinnedBuffer> buffers = new ArrayList<>();
        long start = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<PinnedBuffer>> made = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                made.add(pool.submit(() -> gpu.allocatePinned(chunk, source)));
            }
            for (Future<PinnedBuffer> f : made) {
                buffers.add(f.get());
            }
        }
        double allocate = (System.nanoTime() - start) / 1e9;
        long huge = anonHugeBytes() - hugeBefore;
        boolean ok = true;
        PinnedBuffer first = buffers.getFirst();
        MemorySegment host = first.pinned().hostSegment();
        for (long i = 0; i < CHECKED / 8; i++) {
            host.setAtIndex(JAVA_LONG, i, i * 0x9E3779B97F4A7C15L + count);
        }
        // host to device at the link's rate (pinned), then back through the mapped address and compared
        int reps = 8;
        gpu.synchronize();
        long copyStart = System.nanoTime();
        for (int r = 0; r < reps; r++) {
            gpu.driver().copyHostToDevice(device.region().deviceAddress(), host.asSlice(0, CHECKED), CHECKED,
                    gpu.defaultStream().handle());
        }
        gpu.synchronize();
        double gbPerSecond = reps * CHECKED / ((System.nanoTime() - copyStart) / 1e9) / 1e9;
        gpu.driver().fillBytes(device.region().deviceAddress(), (byte) 0, CHECKED, gpu.defaultStream().handle());
        gpu.driver().copyDeviceToDevice(device.region().deviceAddress(), first.mapped().deviceAddress(), CHECKED,
                gpu.defaultStream().handle());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment back = arena.allocate(CHECKED, 64);
            gpu.driver().copyDeviceToHost(back, device.region().deviceAddress(), CHECKED, gpu.defaultStream().handle());
            gpu.synchronize();
            long mismatch = back.mismatch(host.asSlice(0, CHECKED));
            if (mismatch >= 0) {
                System.out.println("  the mapped address read other bytes than the host view at byte " + mismatch + " FAILED");
                ok = false;
            }
        }
        long freeStart = System.nanoTime();
        buffers.forEach(PinnedBuffer::close);
        double free = (System.nanoTime() - freeStart) / 1e9;
        System.out.printf(Locale.ROOT, "%-10s %d thread%s: %d × %d GiB pinned in %.2f s (%.1f GiB/s), %.1f GiB of it in"
                        + " huge pages; host to device %.1f GB/s; mapped address reads the host's bytes %s; freed in %.2f s%n",
                source, threads, threads == 1 ? " " : "s", count, chunk / GIB, allocate, total / (double) GIB / allocate,
                huge / (double) GIB, gbPerSecond, ok ? "OK" : "NO", free);
        return ok;
    }

    private static long anonHugeBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("AnonHugePages:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return 0;
    }

    private static String read(String path) {
        try {
            return Files.readString(Path.of(path)).strip();
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }
}
