package org.retroinfer.model.weights;

import java.nio.file.Path;

/**
 * A model file that cannot be used: missing, truncated, corrupt, or holding a tensor of the wrong
 * shape or type. The message names the file (and the tensor or key at fault) and says what to do;
 * the command line prints it as one line and exits with code 2.
 */
public class ModelFileException extends RuntimeException {
    private final Path file;

    public ModelFileException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public ModelFileException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
