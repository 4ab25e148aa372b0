package org.retroinfer.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * A held-out evaluation set: one JSON object a line ({@code tools/train-tiny/heldout.py}, fields in
 * {@code tools/train-tiny/README.md}, "Held-out set"), plain or gzip-compressed. Every record is
 * checked as it is read; a bad one is refused with its file and line.
 */
public final class HeldOutSet {
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path file;
    private final List<Sample> samples;

    private HeldOutSet(Path file, List<Sample> samples) {
        this.file = file;
        this.samples = List.copyOf(samples);
    }

    /** Reads a {@code .jsonl} or {@code .jsonl.gz} file (gzip is recognised by its magic bytes). */
    public static HeldOutSet read(Path file) {
        List<Sample> samples = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        int lineNumber = 0;
        try (BufferedReader reader = open(file)) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                Sample s = parse(file, lineNumber, line);
                Integer earlier = seen.put(s.label(), lineNumber);
                if (earlier != null) {
                    throw lineError(file, lineNumber, "repeats " + s.label() + " of line " + earlier);
                }
                samples.add(s);
            }
        } catch (NoSuchFileException e) {
            throw new EvalInputException(file, "does not exist");
        } catch (ZipException | EOFException e) {
            throw new EvalInputException(file, "is not a complete gzip file (" + e.getMessage()
                    + " after line " + lineNumber + "); fetch or regenerate it", e);
        } catch (CharacterCodingException e) {
            throw new EvalInputException(file, "line " + (lineNumber + 1) + " is not valid UTF-8 text");
        } catch (IOException e) {
            throw new EvalInputException(file, "cannot be read: " + e.getMessage(), e);
        }
        if (samples.isEmpty()) {
            throw new EvalInputException(file, "holds no samples; expected one JSON object a line");
        }
        return new HeldOutSet(file, samples);
    }

    /**
     * Writes samples in the held-out format, one JSON object a line, gzip-compressed where the
     * name ends in {@code .gz}.
     */
    public static void write(Path file, List<Sample> samples) throws IOException {
        OutputStream out = Files.newOutputStream(file);
        try (Writer writer = new OutputStreamWriter(file.getFileName().toString().endsWith(".gz")
                ? new GZIPOutputStream(out) : out, StandardCharsets.UTF_8)) {
            for (Sample s : samples) {
                ObjectNode node = JSON.createObjectNode();
                node.put("task", s.task().id());
                node.put("target_length", s.targetLength());
                node.put("index", s.index());
                node.put("seed", s.seedHex());
                node.put("size", s.size());
                node.put("length", s.length());
                node.put("answer_length", s.answerLength());
                node.put("prompt", s.prompt());
                node.put("answer", s.answer());
                ArrayNode references = node.putArray("references");
                s.references().forEach(references::add);
                writer.write(JSON.writeValueAsString(node));
                writer.write('\n');
            }
        }
    }

    public Path file() {
        return file;
    }

    /** Every sample, in file order. */
    public List<Sample> samples() {
        return samples;
    }

    /** The target lengths the file holds, ascending. */
    public SortedSet<Integer> lengths() {
        TreeSet<Integer> lengths = new TreeSet<>();
        samples.forEach(s -> lengths.add(s.targetLength()));
        return lengths;
    }

    /**
     * The samples of the given lengths and tasks, at most {@code perTaskAndLength} of each pair (the
     * lowest indexes), ordered by length, then index, then task, so that a run stopped early covers
     * every task equally.
     */
    public List<Sample> select(Set<Integer> lengths, Set<EvalTask> tasks, int perTaskAndLength) {
        if (perTaskAndLength < 1) {
            throw new IllegalArgumentException("perTaskAndLength must be at least 1, got " + perTaskAndLength);
        }
        Map<String, Integer> taken = new HashMap<>();
        List<Sample> out = new ArrayList<>();
        samples.stream()
                .filter(s -> lengths.contains(s.targetLength()) && tasks.contains(s.task()))
                .sorted(Comparator.comparingInt(Sample::index))
                .forEach(s -> {
                    if (taken.merge(s.task() + "/" + s.targetLength(), 1, Integer::sum) <= perTaskAndLength) {
                        out.add(s);
                    }
                });
        out.sort(Comparator.comparingInt(Sample::targetLength).thenComparingInt(Sample::index)
                .thenComparing(Sample::task));
        return out;
    }

    private static BufferedReader open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file));
        try {
            in.mark(2);
            int b0 = in.read();
            int b1 = in.read();
            in.reset();
            if (b0 == 0x1f && b1 == 0x8b) {
                in = new GZIPInputStream(in, 1 << 16);
            }
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
        return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)), 1 << 16);
    }

    private static Sample parse(Path file, int line, String text) {
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw lineError(file, line, "not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (node == null || !node.isObject()) {
            throw lineError(file, line, "not a JSON object");
        }
        // fields in the order the README lists them, so that the first one at fault is named
        String taskName = string(file, line, node, "task");
        EvalTask task = EvalTask.byId(taskName).orElseThrow(() -> lineError(file, line, "unknown task '"
                + taskName + "'; known tasks: " + EvalTask.ids()));
        int targetLength = integer(file, line, node, "target_length");
        int index = integer(file, line, node, "index");
        String seedText = string(file, line, node, "seed");
        long seed;
        try {
            seed = Long.parseUnsignedLong(seedText, 16);
        } catch (NumberFormatException e) {
            throw lineError(file, line, "field 'seed' must be 16 hex digits, got '" + seedText + "'");
        }
        int size = integer(file, line, node, "size");
        int length = integer(file, line, node, "length");
        int answerLength = integer(file, line, node, "answer_length");
        String prompt = string(file, line, node, "prompt");
        String answer = string(file, line, node, "answer");
        JsonNode refs = node.get("references");
        if (refs == null || !refs.isArray()) {
            throw lineError(file, line, "field 'references' must be a list of strings");
        }
        List<String> references = new ArrayList<>();
        for (JsonNode r : refs) {
            if (!r.isTextual()) {
                throw lineError(file, line, "field 'references' must be a list of strings");
            }
            references.add(r.asText());
        }
        try {
            return new Sample(task, targetLength, index, seed, size, length, answerLength, prompt, answer, references);
        } catch (IllegalArgumentException e) {
            throw lineError(file, line, e.getMessage());
        }
    }

    private static String string(Path file, int line, JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw lineError(file, line, v == null ? "field '" + field + "' is missing"
                    : "field '" + field + "' must be a string");
        }
        return v.asText();
    }

    private static int integer(Path file, int line, JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) {
            throw lineError(file, line, v == null ? "field '" + field + "' is missing" : "field '" + field
                    + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    private static EvalInputException lineError(Path file, int line, String problem) {
        return new EvalInputException(file, "line " + line + ": " + problem);
    }
}
