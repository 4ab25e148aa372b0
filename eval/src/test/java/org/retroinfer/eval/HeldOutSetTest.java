package org.retroinfer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeldOutSetTest {
    private static final String RECORD = """
            {"task": "passkey", "target_length": 256, "index": %d, "seed": "00000000000000ff", "size": 3, \
            "length": 120, "answer_length": 7, "prompt": "What is the pass key? The pass key is", \
            "answer": " 12345.", "references": ["12345"]}""";

    @TempDir
    Path dir;

    @Test
    void readsTheModelsHeldOutSet() {
        HeldOutSet set = HeldOutSet.read(RetroTiny.HELDOUT);
        assertEquals(253, set.samples().size());
        assertEquals(List.of(8192, 16384, 32768), new ArrayList<>(set.lengths()));
        Sample first = set.samples().getFirst();
        assertEquals(EvalTask.NIAH_SINGLE_1, first.task());
        assertEquals("80566898cb2c7076", first.seedHex());
        assertEquals(8181, first.length());
        assertEquals(" 9636045.", first.answer());
        assertEquals(List.of("9636045"), first.references());
        for (Sample s : set.samples()) {
            assertTrue(s.length() + s.answerLength() + 1 <= s.targetLength(), s.label());
            assertTrue(s.answer().startsWith(" ") && s.answer().endsWith("."), s.label());
        }
    }

    @Test
    void selectsTheFirstSamplesOfEachTaskAndLengthInRunOrder() {
        HeldOutSet set = HeldOutSet.read(RetroTiny.HELDOUT);
        List<Sample> chosen = set.select(Set.of(8192, 16384), EnumSet.of(EvalTask.VT, EvalTask.PASSKEY), 2);
        assertEquals(List.of("vt 8192 #0", "passkey 8192 #0", "vt 8192 #1", "passkey 8192 #1", "vt 16384 #0",
                "passkey 16384 #0", "vt 16384 #1", "passkey 16384 #1"), chosen.stream().map(Sample::label).toList());
        assertEquals(33, set.select(Set.of(32768), EnumSet.allOf(EvalTask.class), 10).size());
    }

    @Test
    void readsPlainJsonLinesToo() throws IOException {
        Path file = dir.resolve("two.jsonl");
        Files.writeString(file, RECORD.formatted(0) + "\n\n" + RECORD.formatted(1) + "\n");
        HeldOutSet set = HeldOutSet.read(file);
        assertEquals(2, set.samples().size());
        assertEquals(0xffL, set.samples().get(1).seed());
    }

    @Test
    void corruptLineIsRefusedWithItsFileAndLineNumber() throws IOException {
        Path file = gzip("corrupt.jsonl.gz", RECORD.formatted(0) + "\n" + RECORD.formatted(1).substring(0, 60) + "\n");
        EvalInputException e = assertThrows(EvalInputException.class, () -> HeldOutSet.read(file));
        assertTrue(e.getMessage().startsWith(file + ": line 2: not valid JSON"), e.getMessage());
    }

    @Test
    void badRecordsAreRefusedNamingTheFieldAtFault() throws IOException {
        String r = RECORD.formatted(0);
        assertRefused(r.replace("passkey", "qa_9"), "line 1: unknown task 'qa_9'; known tasks: niah_single_1");
        assertRefused(r.replace("\"answer\": \" 12345.\", ", ""), "line 1: field 'answer' is missing");
        assertRefused(r.replace("\"size\": 3", "\"size\": \"3\""), "line 1: field 'size' must be an integer");
        assertRefused(r.replace("00000000000000ff", "xyz"), "line 1: field 'seed' must be 16 hex digits");
        assertRefused(r.replace("[\"12345\"]", "[]"), "line 1: a sample needs at least one reference");
        assertRefused(RECORD.formatted(0) + "\n" + RECORD.formatted(0), "line 2: repeats passkey 256 #0 of line 1");
        assertRefused("[1, 2]", "line 1: not a JSON object");
        assertRefused("\n", "holds no samples");
    }

    @Test
    void truncatedGzipFileIsRefusedWithItsPath() throws IOException {
        Path whole = gzip("whole.jsonl.gz", (RECORD.formatted(0) + "\n").repeat(50));
        byte[] bytes = Files.readAllBytes(whole);
        Path cut = dir.resolve("cut.jsonl.gz");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        EvalInputException e = assertThrows(EvalInputException.class, () -> HeldOutSet.read(cut));
        assertTrue(e.getMessage().startsWith(cut + ": is not a complete gzip file"), e.getMessage());
    }

    @Test
    void missingFileIsRefusedWithItsPath() {
        Path nowhere = dir.resolve("nowhere.jsonl.gz");
        EvalInputException e = assertThrows(EvalInputException.class, () -> HeldOutSet.read(nowhere));
        assertEquals(nowhere + ": does not exist", e.getMessage());
    }

    private void assertRefused(String content, String expected) throws IOException {
        Path file = dir.resolve("bad.jsonl");
        Files.writeString(file, content);
        EvalInputException e = assertThrows(EvalInputException.class, () -> HeldOutSet.read(file));
        assertTrue(e.getMessage().startsWith(file + ": " + expected), e.getMessage());
    }

    private Path gzip(String name, String text) throws IOException {
        Path file = dir.resolve(name);
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return file;
    }
}
