package org.retroinfer.eval.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.eval.EvalInputException;

/** Expected lines are what tools/train-tiny/corpus.py's TextSource.lines_from returns for the same documents. */
class TextHaystackTest {
    @TempDir
    Path dir;

    @Test
    void linesRunOnAcrossDocumentsWithABlankLineBetweenAndWrapAround() {
        TextHaystack text = TextHaystack.of(RulerTasksTest.TINY);
        assertEquals(4, text.documents());
        assertEquals(List.of("alpha", "beta", "", "", "", "gamma", "", "delta", "", "", "last line", ""),
                text.linesFrom(0, 12));
        assertEquals(List.of("last line", "", "alpha", "beta"), text.linesFrom(3, 4));
        assertEquals(List.of("gamma"), text.linesFrom(2, 1));
        assertEquals(List.of(), text.linesFrom(1, 0));
    }

    @Test
    void readsNulSeparatedDocumentsFromGzip() throws IOException {
        Path file = dir.resolve("haystack.txt.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(String.join("\0", RulerTasksTest.TINY).getBytes(StandardCharsets.UTF_8));
        }
        TextHaystack text = TextHaystack.read(file);
        assertEquals(4, text.documents());
        assertEquals(TextHaystack.of(RulerTasksTest.TINY).linesFrom(1, 20), text.linesFrom(1, 20));
    }

    @Test
    void retroTinyShipsAHaystackOfHeldOutText() {
        TextHaystack text = TextHaystack.forModel(org.retroinfer.eval.RetroTiny.DIR);
        assertEquals(57, text.documents(), "runs of tools/train-tiny/haystack.py over the held-out file");
        assertEquals("# mypy: allow-untyped-defs", text.linesFrom(0, 1).getFirst());
    }

    @Test
    void missingOrCorruptFileIsRefusedWithItsPath() throws IOException {
        Path nowhere = dir.resolve("nowhere.txt.gz");
        EvalInputException e = assertThrows(EvalInputException.class, () -> TextHaystack.read(nowhere));
        assertTrue(e.getMessage().startsWith(nowhere + ": does not exist"), e.getMessage());
        Path plain = dir.resolve("plain.txt.gz");
        Files.writeString(plain, "not gzip");
        e = assertThrows(EvalInputException.class, () -> TextHaystack.read(plain));
        assertTrue(e.getMessage().startsWith(plain + ": is not a complete gzip file"), e.getMessage());
    }
}
