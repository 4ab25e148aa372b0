package org.retroinfer.model.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.kernels.DType;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    private Path write(String name, byte[] content) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, content);
        return file;
    }

    /** A valid two-tensor file: w [2, 3] F32 then b [3] BF16. */
    private byte[] validFile() {
        byte[] data = new LeBytes().f32(1).f32(2).f32(3).f32(4).f32(5).f32(6)
                .u8(0x80).u8(0x3F).u8(0x00).u8(0x40).u8(0x40).u8(0x40).bytes();
        return LeBytes.safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[24,30]}}", data);
    }

    private ModelFileException rejected(Path file) {
        ModelFileException e = assertThrows(ModelFileException.class, () -> SafetensorsFile.open(file).close());
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        assertEquals(file, e.file());
        assertEquals(1, e.getMessage().lines().count(), "one line: " + e.getMessage());
        System.out.println(e.getMessage());
        return e;
    }

    @Test
    void handMadeFileIsReadWithShapesTypesAndValues() throws IOException {
        try (SafetensorsFile file = SafetensorsFile.open(write("ok.safetensors", validFile()))) {
            assertEquals(java.util.List.of("b", "w"), java.util.List.copyOf(file.tensorNames()));
            Tensor w = file.require("w").requireShape(2, 3).requireType(DType.F32);
            assertEquals(5f, w.asMatrix().get(1, 1));
            assertArrayEquals(new float[] {1, 2, 3}, file.require("b").toFloats());
            assertTrue(file.metadata().isEmpty());
            assertTrue(file.find("missing").isEmpty());
        }
    }

    @Test
    void truncatedSafetensorsFileIsRejectedWithItsPath() throws IOException {
        byte[] whole = validFile();
        int headerEnd = whole.length - 30;
        // Inside the length prefix, inside the header, at the start of the data, inside the data, one byte short.
        for (int cut : new int[] {3, 40, headerEnd, headerEnd + 13, whole.length - 1}) {
            Path file = write("cut" + cut + ".safetensors", Arrays.copyOf(whole, cut));
            String message = rejected(file).getMessage();
            assertTrue(message.contains("truncated"), message);
            if (cut >= headerEnd) {
                assertTrue(message.contains("(" + (whole.length - cut) + " bytes missing)"), message);
            }
        }
    }

    @Test
    void corruptJsonHeaderIsRejected() throws IOException {
        byte[] bytes = validFile();
        bytes[20] = '}';
        String message = rejected(write("json.safetensors", bytes)).getMessage();
        assertTrue(message.contains("not valid JSON"), message);
    }

    @Test
    void absurdHeaderLengthIsRejected() throws IOException {
        String message = rejected(write("len.safetensors", new LeBytes().u64(-5).u64(0).bytes())).getMessage();
        assertTrue(message.contains("not a safetensors file"), message);
        assertTrue(message.contains("18446744073709551611"), message);
    }

    @Test
    void unsupportedDtypeIsNamedWithTheSupportedOnes() throws IOException {
        byte[] bytes = LeBytes.safetensors("{\"rope.inv_freq\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}",
                new byte[16]);
        String message = rejected(write("f64.safetensors", bytes)).getMessage();
        assertTrue(message.contains("tensor rope.inv_freq has dtype F64"), message);
        assertTrue(message.contains("F32, F16 and BF16"), message);
    }

    @Test
    void offsetsThatDisagreeWithShapeAndDtypeAreRejected() throws IOException {
        byte[] bytes = LeBytes.safetensors("{\"w\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]);
        String message = rejected(write("size.safetensors", bytes)).getMessage();
        assertTrue(message.contains("needs 6 bytes"), message);
    }

    @Test
    void negativeDimensionIsRejected() throws IOException {
        byte[] bytes = LeBytes.safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,2],\"data_offsets\":[0,8]}}", new byte[8]);
        String message = rejected(write("neg.safetensors", bytes)).getMessage();
        assertTrue(message.contains("non-negative"), message);
    }

    @Test
    void overlapsGapsAndTrailingBytesAreRejected() throws IOException {
        String overlap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        assertTrue(rejected(write("overlap.safetensors", LeBytes.safetensors(overlap, new byte[12])))
                .getMessage().contains("overlap"));
        String gap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        assertTrue(rejected(write("gap.safetensors", LeBytes.safetensors(gap, new byte[8]))).getMessage().contains("gap"));
        String one = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        assertTrue(rejected(write("tail.safetensors", LeBytes.safetensors(one, new byte[9])))
                .getMessage().contains("5 bytes after the end"));
    }

    @Test
    void metadataMustMapStringsToStrings() throws IOException {
        byte[] ok = LeBytes.safetensors("{\"__metadata__\":{\"format\":\"pt\",\"note\":\"x\"}}", new byte[0]);
        try (SafetensorsFile file = SafetensorsFile.open(write("meta.safetensors", ok))) {
            assertEquals(java.util.Map.of("format", "pt", "note", "x"), file.metadata());
            assertTrue(file.tensorNames().isEmpty());
        }
        byte[] bad = LeBytes.safetensors("{\"__metadata__\":{\"layers\":32}}", new byte[0]);
        assertTrue(rejected(write("badmeta.safetensors", bad)).getMessage().contains("__metadata__"));
    }

    @Test
    void duplicateTensorNamesAreRejected() throws IOException {
        String twice = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        String message = rejected(write("dup.safetensors", LeBytes.safetensors(twice, new byte[8]))).getMessage();
        assertTrue(message.contains("Duplicate"), message);
    }

    @Test
    void missingAndEmptyFilesAreRejectedWithTheirPath() throws IOException {
        assertTrue(rejected(dir.resolve("absent.safetensors")).getMessage().contains("does not exist"));
        assertTrue(rejected(write("empty.safetensors", new byte[0])).getMessage().contains("is empty"));
    }

    @Test
    void tensorOfTheWrongShapeIsRejectedByRequireShape() throws IOException {
        Path path = write("shape.safetensors", validFile());
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            ModelFileException e = assertThrows(ModelFileException.class, () -> file.require("w").requireShape(3, 2));
            assertEquals(path + ": tensor w has shape [2, 3] but the model's config needs [3, 2]", e.getMessage());
            ModelFileException type = assertThrows(ModelFileException.class, () -> file.require("b").requireType(DType.F32));
            assertTrue(type.getMessage().contains("tensor b is stored as BF16"), type.getMessage());
            ModelFileException missing = assertThrows(ModelFileException.class, () -> file.require("lm_head.weight"));
            assertEquals(path + ": tensor lm_head.weight is missing", missing.getMessage());
        }
    }

    @Test
    void closingUnmapsTheTensors() throws IOException {
        SafetensorsFile file = SafetensorsFile.open(write("close.safetensors", validFile()));
        Tensor w = file.require("w");
        file.close();
        file.close();
        assertThrows(IllegalStateException.class, w::toFloats);
    }

    @Test
    void ggufFileNamedSafetensorsGetsAHint() throws IOException {
        byte[] gguf = new LeBytes().ascii("GGUF").u32(3).u64(0).u64(0).bytes();
        String message = rejected(write("wrong.safetensors", gguf)).getMessage();
        assertTrue(message.contains("it is a GGUF file"), message);
    }
}
