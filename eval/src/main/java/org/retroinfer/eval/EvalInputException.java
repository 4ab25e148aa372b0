package org.retroinfer.eval;

import java.nio.file.Path;

/**
 * Evaluation input that cannot be used: a held-out file that is missing, corrupt or holds a bad
 * record, or samples that do not belong to the model (another tokenizer, too long a context). The
 * message names the file and line or the sample, and says what to do; the command line prints it
 * as one line and exits with code 2.
 */
public class EvalInputException extends RuntimeException {
    public EvalInputException(String message) {
        super(message);
    }

    public EvalInputException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public EvalInputException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
