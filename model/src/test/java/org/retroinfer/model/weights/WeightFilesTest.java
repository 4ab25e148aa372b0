package org.retroinfer.model.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.kernels.DType;

class WeightFilesTest {
    @TempDir
    Path dir;

    private static String rejected(Path path) {
        ModelFileException e = assertThrows(ModelFileException.class, () -> WeightFiles.open(path).close());
        assertEquals(path, e.file());
        assertEquals(1, e.getMessage().lines().count(), "one line: " + e.getMessage());
        System.out.println(e.getMessage());
        return e.getMessage();
    }

    @Test
    void opensEachFormatByContentOrName() {
        Path single = dir.resolve("w.safetensors");
        new SafetensorsWriter().add("x", DType.F32, new long[] {2}, new float[] {1, 2}).write(single);
        Path gguf = dir.resolve("model.gguf");
        new GgufWriter().add("x", DType.F32, new long[] {2}, new float[] {3, 4}).write(gguf);
        Path unnamed = dir.resolve("download-without-extension");
        new GgufWriter().add("x", DType.F32, new long[] {2}, new float[] {5, 6}).write(unnamed);
        Path checkpoint = dir.resolve("ckpt");
        new SafetensorsWriter().add("x", DType.F32, new long[] {2}, new float[] {7, 8}).writeSharded(checkpoint, 1 << 20);

        try (WeightFile f = WeightFiles.open(single)) {
            assertInstanceOf(SafetensorsFile.class, f);
            assertArrayEquals(new float[] {1, 2}, f.require("x").toFloats());
        }
        try (WeightFile f = WeightFiles.open(gguf)) {
            assertInstanceOf(GgufFile.class, f);
            assertArrayEquals(new float[] {3, 4}, f.require("x").toFloats());
        }
        try (WeightFile f = WeightFiles.open(unnamed)) {
            assertArrayEquals(new float[] {5, 6}, f.require("x").toFloats());
        }
        try (WeightFile f = WeightFiles.open(checkpoint)) {
            assertInstanceOf(SafetensorsCheckpoint.class, f);
            assertArrayEquals(new float[] {7, 8}, f.require("x").toFloats());
        }
    }

    @Test
    void indexFileOpensItsCheckpoint() {
        Path checkpoint = dir.resolve("sharded");
        SafetensorsWriter writer = new SafetensorsWriter();
        writer.add("a", DType.F16, new long[] {2}, new float[] {1, 2}).add("b", DType.F16, new long[] {2}, new float[] {3, 4});
        writer.writeSharded(checkpoint, 4);
        try (WeightFile f = WeightFiles.open(checkpoint.resolve("model.safetensors.index.json"))) {
            assertEquals(checkpoint.toAbsolutePath(), f.path().toAbsolutePath());
            assertArrayEquals(new float[] {3, 4}, f.require("b").toFloats());
        }
    }

    @Test
    void pytorchCheckpointsAreRefusedNamingTheSupportedFormats() throws IOException {
        for (String name : new String[] {"pytorch_model.bin", "consolidated.00.pth", "model.pt"}) {
            Path file = Files.write(dir.resolve(name), new byte[] {(byte) 0x80, 2, 0, 0});
            String message = rejected(file);
            assertTrue(message.contains("PyTorch pickle"), message);
            assertTrue(message.contains("safetensors") && message.contains("GGUF"), message);
        }
        Path zip = Files.write(dir.resolve("weights"), new byte[] {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0});
        assertTrue(rejected(zip).contains("PyTorch pickle"));
    }

    @Test
    void unknownMissingAndMisnamedFilesAreRefused() throws IOException {
        Path text = Files.writeString(dir.resolve("notes.txt"), "hello, these are not weights");
        assertTrue(rejected(text).contains("is neither a safetensors nor a GGUF file"));
        assertTrue(rejected(dir.resolve("nowhere")).contains("does not exist"));
        Path fakeGguf = Files.writeString(dir.resolve("fake.gguf"), "GGML and then some");
        assertTrue(rejected(fakeGguf).contains("is not a GGUF file: it starts with 'GGML'"));
    }
}
