package org.retroinfer.model.weights;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.retroinfer.kernels.Quantize;

/**
 * A weights file being written: bytes go to a temporary file beside the target through an off-heap
 * staging buffer, tensors are encoded row by row, and {@link #commit()} renames the finished file
 * into place, so that a crash never leaves a half-written file under the real name.
 */
final class TensorOutput implements AutoCloseable {
    private static final int STAGING_BYTES = 1 << 20;

    private final Path target;
    private final Path partial;
    private final FileChannel channel;
    private final Arena arena = Arena.ofConfined();
    private MemorySegment staging;
    private long used;
    private long written;
    private boolean committed;

    TensorOutput(Path target) {
        this.target = target;
        this.partial = target.resolveSibling(target.getFileName() + ".partial");
        try {
            this.channel = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            arena.close();
            throw failed(e);
        }
        this.staging = arena.allocate(STAGING_BYTES);
    }

    /** Bytes written so far, the file offset of the next byte. */
    long position() {
        return written + used;
    }

    void write(byte[] bytes) {
        write(MemorySegment.ofArray(bytes));
    }

    void write(MemorySegment bytes) {
        long done = 0;
        while (done < bytes.byteSize()) {
            long n = Math.min(bytes.byteSize() - done, staging.byteSize() - used);
            MemorySegment.copy(bytes, done, staging, used, n);
            used += n;
            done += n;
            if (used == staging.byteSize()) {
                flush();
            }
        }
    }

    /** Zero bytes up to the next multiple of {@code alignment}. */
    void padTo(long alignment) {
        long pad = GgufFile.alignUp(position(), alignment) - position();
        write(new byte[(int) pad]);
    }

    /** The tensor's bytes in its stored type: copied where given raw, else encoded row by row. */
    void writeTensor(TensorPayload tensor) {
        if (tensor.raw() != null) {
            write(tensor.raw());
            return;
        }
        int cols = tensor.columns();
        long rowBytes = tensor.type().byteSize(cols);
        if (rowBytes > staging.byteSize()) {
            flush();
            staging = arena.allocate(rowBytes);
        }
        float[] row = new float[cols];
        for (long r = 0; r < tensor.rowCount(); r++) {
            // Poisoned, so that a source that forgets a value writes NaN (or fails to quantise), never stale data.
            Arrays.fill(row, Float.NaN);
            tensor.rows().read(r, row);
            if (used + rowBytes > staging.byteSize()) {
                flush();
            }
            try {
                Quantize.row(tensor.type(), row, 0, cols, staging, used);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tensor " + tensor.name() + ", row " + r + ": " + e.getMessage(), e);
            }
            used += rowBytes;
        }
    }

    /** Flushes, syncs and renames the file into place. */
    void commit() {
        flush();
        try {
            channel.force(false);
            channel.close();
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw failed(e);
        }
        committed = true;
    }

    private void flush() {
        ByteBuffer buffer = staging.asSlice(0, used).asByteBuffer();
        try {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            throw failed(e);
        }
        written += used;
        used = 0;
    }

    private ModelFileException failed(IOException e) {
        return new ModelFileException(target, "cannot be written: " + e + "; check the disk space and permissions");
    }

    @Override
    public void close() {
        arena.close();
        if (!committed) {
            try {
                channel.close();
                Files.deleteIfExists(partial);
            } catch (IOException e) {
                throw failed(e);
            }
        }
    }
}
