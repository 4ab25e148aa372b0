package org.retroinfer.eval;

import java.nio.file.Path;

/** The project's own model, committed under models/ (tests run in the module directory). */
public final class RetroTiny {
    public static final Path DIR = Path.of("..", "models", "retro-tiny");
    public static final Path HELDOUT = DIR.resolve("eval").resolve("heldout.jsonl.gz");

    private RetroTiny() {}
}
