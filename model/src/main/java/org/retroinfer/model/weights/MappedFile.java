package org.retroinfer.model.weights;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A whole file memory-mapped read-only into its own shared arena, so that any thread may read the
 * tensors and {@link #close()} unmaps them all at once. Nothing is copied onto the heap.
 */
final class MappedFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final MemorySegment segment;
    private boolean closed;

    private MappedFile(Path path, Arena arena, MemorySegment segment) {
        this.path = path;
        this.arena = arena;
        this.segment = segment;
    }

    /** Maps {@code path}; a missing, unreadable or empty file is a {@link ModelFileException}. */
    static MappedFile open(Path path, String kind) {
        if (Files.isDirectory(path)) {
            throw new ModelFileException(path, "is a directory, not a " + kind + " file");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size == 0) {
                throw new ModelFileException(path, "is empty (0 bytes), not a " + kind
                        + " file; the download or copy was probably interrupted: fetch it again");
            }
            return new MappedFile(path, arena, channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena));
        } catch (NoSuchFileException e) {
            arena.close();
            throw new ModelFileException(path, "does not exist; check the model path");
        } catch (AccessDeniedException e) {
            arena.close();
            throw new ModelFileException(path, "cannot be read (permission denied); check the file's permissions");
        } catch (IOException e) {
            arena.close();
            throw new ModelFileException(path, "cannot be memory-mapped: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    Path path() {
        return path;
    }

    /** The whole file. */
    MemorySegment segment() {
        return segment;
    }

    long size() {
        return segment.byteSize();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
