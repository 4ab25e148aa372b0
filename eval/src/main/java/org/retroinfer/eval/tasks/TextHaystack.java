package org.retroinfer.eval.tasks;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.retroinfer.eval.EvalInputException;

/**
 * The real text of the text-haystack tasks: documents read as lines, exactly as
 * {@code tools/train-tiny/corpus.py}'s {@code TextSource} serves them, so that a seed and a size
 * give Java the lines Python would give for the same documents.
 *
 * <p>The file form ({@code tools/train-tiny/haystack.py}): gzip of UTF-8 text, documents separated
 * by a NUL character, which no document holds (corpus.clean refuses NUL bytes).
 */
public final class TextHaystack {
    private static final char SEPARATOR = '\0';

    private final List<String[]> documents;

    private TextHaystack(List<String[]> documents) {
        if (documents.isEmpty()) {
            throw new IllegalArgumentException("a text haystack needs at least one document");
        }
        this.documents = documents;
    }

    /** Documents given as text, each split into lines at {@code \n} (as Python's {@code str.split("\n")}). */
    public static TextHaystack of(List<String> documents) {
        return new TextHaystack(documents.stream().map(TextHaystack::lines).toList());
    }

    /** A model's haystack file, {@code MODEL/eval/haystack.txt.gz}: held-out text only, for its text tasks. */
    public static TextHaystack forModel(Path modelDir) {
        return read(modelDir.resolve("eval").resolve("haystack.txt.gz"));
    }

    /** The documents of a haystack file, e.g. {@code models/retro-tiny/eval/haystack.txt.gz}. */
    public static TextHaystack read(Path file) {
        String text;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 1 << 16)) {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(in.readAllBytes())).toString();
        } catch (NoSuchFileException e) {
            throw new EvalInputException(file, "does not exist; make it with tools/train-tiny/haystack.py");
        } catch (ZipException e) {
            throw new EvalInputException(file, "is not a complete gzip file (" + e.getMessage() + ")", e);
        } catch (CharacterCodingException e) {
            throw new EvalInputException(file, "is not valid UTF-8 text");
        } catch (IOException e) {
            throw new EvalInputException(file, "cannot be read: " + e.getMessage(), e);
        }
        List<String[]> documents = new ArrayList<>();
        int from = 0;
        for (int at = text.indexOf(SEPARATOR); ; at = text.indexOf(SEPARATOR, from)) {
            documents.add(lines(text.substring(from, at < 0 ? text.length() : at)));
            if (at < 0) {
                break;
            }
            from = at + 1;
        }
        return new TextHaystack(documents);
    }

    /** The number of documents: what a text task's first draw, {@code below(documents())}, picks among. */
    public int documents() {
        return documents.size();
    }

    /**
     * {@code n} lines from the start of document {@code index}: its lines, then one blank line and
     * the next document's, wrapping around to the first document, cut at {@code n}.
     */
    public List<String> linesFrom(int index, int n) {
        if (index < 0 || n < 0) {
            throw new IllegalArgumentException("index and n must be 0 or more, got " + index + " and " + n);
        }
        List<String> out = new ArrayList<>(n);
        for (int i = index; out.size() < n; i++) {
            if (!out.isEmpty()) {
                out.add("");
            }
            for (String line : documents.get(i % documents.size())) {
                if (out.size() == n) {
                    break;
                }
                out.add(line);
            }
        }
        return out;
    }

    /** Lines at every {@code \n}, keeping empty ones at either end, as Python's {@code split("\n")}. */
    private static String[] lines(String document) {
        return document.split("\n", -1);
    }
}
