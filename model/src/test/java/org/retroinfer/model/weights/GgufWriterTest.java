package org.retroinfer.model.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Half;
import org.retroinfer.kernels.Quantize;

class GgufWriterTest {
    @TempDir
    Path dir;

    @Test
    void smallFileIsByteForByteWhatTheFormatSpecifies() throws IOException {
        Path file = dir.resolve("small.gguf");
        float[] values = {0, 1, 2, 3, 4, 5, 6, 7};
        new GgufWriter().put("general.architecture", GgufValue.string("llama"))
                .add("w", DType.F32, new long[] {2, 4}, values).write(file);
        byte[] bytes = Files.readAllBytes(file);

        // Magic "GGUF", version 3, one tensor, one metadata pair (u32, u32, u64, u64, all little-endian).
        assertEquals("4747554603000000" + "0100000000000000" + "0100000000000000",
                HexFormat.of().formatHex(bytes, 0, 24));
        // Key: u64 length 20, "general.architecture"; value type 8 (STRING); u64 length 5, "llama".
        assertEquals("1400000000000000" + HexFormat.of().formatHex("general.architecture".getBytes())
                + "08000000" + "0500000000000000" + HexFormat.of().formatHex("llama".getBytes()),
                HexFormat.of().formatHex(bytes, 24, 69));
        // Tensor info: name "w"; 2 dims, ne = [4, 2] (innermost first); type 0 (F32); offset 0.
        assertEquals("0100000000000000" + "77" + "02000000" + "0400000000000000" + "0200000000000000"
                + "00000000" + "0000000000000000", HexFormat.of().formatHex(bytes, 69, 110));
        // Zero padding to the 32-byte alignment, then the 8 floats (32 bytes, already aligned).
        assertEquals("00".repeat(18), HexFormat.of().formatHex(bytes, 110, 128));
        LeBytes data = new LeBytes();
        for (float v : values) {
            data.f32(v);
        }
        assertEquals(HexFormat.of().formatHex(data.bytes()), HexFormat.of().formatHex(bytes, 128, 160));
        assertEquals(160, bytes.length);
    }

    @Test
    void everyMetadataTypeAndTensorTypeRoundTrips() {
        long seed = System.nanoTime();
        System.out.println("everyMetadataTypeAndTensorTypeRoundTrips seed " + seed);
        Random random = new Random(seed);
        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        metadata.put("general.architecture", GgufValue.string("llama"));
        metadata.put("t.u8", new GgufValue(GgufType.UINT8, null, 255L));
        metadata.put("t.i8", new GgufValue(GgufType.INT8, null, -128L));
        metadata.put("t.u16", new GgufValue(GgufType.UINT16, null, 65535L));
        metadata.put("t.i16", new GgufValue(GgufType.INT16, null, -32768L));
        metadata.put("t.u32", GgufValue.uint32(4294967295L));
        metadata.put("t.i32", GgufValue.int32(Integer.MIN_VALUE));
        metadata.put("t.u64", GgufValue.uint64(Long.MAX_VALUE));
        metadata.put("t.i64", new GgufValue(GgufType.INT64, null, Long.MIN_VALUE));
        metadata.put("t.f32", GgufValue.float32((float) 1e-5));
        metadata.put("t.f64", new GgufValue(GgufType.FLOAT64, null, Math.PI));
        metadata.put("t.bool", GgufValue.bool(true));
        metadata.put("t.str", GgufValue.string("日本語 and \u0000 nul"));
        metadata.put("t.strs", GgufValue.array(GgufType.STRING, List.of("<s>", "</s>", "Ġthe", "")));
        metadata.put("t.i32s", GgufValue.array(GgufType.INT32, List.of(1L, -2L, 3L)));
        metadata.put("t.f32s", GgufValue.array(GgufType.FLOAT32, List.of(0.5, -0.25)));
        metadata.put("t.bools", GgufValue.array(GgufType.BOOL, List.of(true, false)));
        metadata.put("t.empty", GgufValue.array(GgufType.UINT8, List.of()));

        DType[] types = {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0};
        long[][] shapes = {{3, 32}, {2, 5}, {7}, {4, 64}, {2, 3, 32}};
        float[][] values = new float[types.length][];
        GgufWriter writer = new GgufWriter().putAll(metadata);
        for (int t = 0; t < types.length; t++) {
            long n = 1;
            for (long d : shapes[t]) {
                n *= d;
            }
            values[t] = new float[(int) n];
            for (int i = 0; i < n; i++) {
                values[t][i] = (float) random.nextGaussian();
            }
            writer.add("blk." + t + ".weight", types[t], shapes[t], values[t]);
        }
        Path file = dir.resolve("all.gguf");
        writer.write(file);

        try (GgufFile gguf = GgufFile.open(file)) {
            assertEquals(3, gguf.version());
            assertEquals(32, gguf.alignment());
            assertEquals(0, gguf.dataOffset() % 32);
            assertEquals(List.copyOf(metadata.keySet()), List.copyOf(gguf.metadata().all().keySet()));
            for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
                assertEquals(e.getValue(), gguf.metadata().all().get(e.getKey()), e.getKey());
            }
            for (int t = 0; t < types.length; t++) {
                Tensor tensor = gguf.require("blk." + t + ".weight");
                assertEquals(types[t], tensor.type());
                assertArrayEquals(shapes[t], tensor.shape());
                assertEquals(0, tensor.data().address() % 32, "tensor data must be aligned");
                assertArrayEquals(expectedBytes(types[t], values[t]), tensor.data().toArray(ValueLayout.JAVA_BYTE),
                        "seed " + seed + " tensor " + t);
            }
            // Row-major shape: element (r, c) of the [3, 32] F32 matrix is values[r * 32 + c].
            assertEquals(values[0][2 * 32 + 5], gguf.require("blk.0.weight").asMatrix().get(2, 5));
            float[] f16 = gguf.require("blk.1.weight").toFloats();
            for (int i = 0; i < f16.length; i++) {
                assertEquals(Half.toFloat(DType.F16, Half.fromFloat(DType.F16, values[1][i])), f16[i]);
            }
        }
    }

    /** The stored bytes of {@code values}, encoded one value or block at a time by the kernels' encoder. */
    private static byte[] expectedBytes(DType type, float[] values) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(type.byteSize(values.length));
            Quantize.row(type, values, 0, values.length, out, 0);
            return out.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    @Test
    void eachTensorIsPaddedToTheAlignmentAndCustomAlignmentIsHonoured() throws IOException {
        Path file = dir.resolve("aligned.gguf");
        new GgufWriter().put("general.alignment", GgufValue.uint32(64))
                .add("q", DType.Q8_0, new long[] {32}, new float[32])
                .add("f", DType.F16, new long[] {3}, new float[] {1, 2, 3})
                .write(file);
        try (GgufFile gguf = GgufFile.open(file)) {
            assertEquals(64, gguf.alignment());
            assertEquals(0, gguf.dataOffset() % 64);
            // q takes 34 bytes, padded to 64; f follows at offset 64 and is padded to 64 too.
            assertEquals(gguf.dataOffset() + 128, Files.size(file));
            assertEquals(0, gguf.require("f").data().address() % 64);
            assertArrayEquals(new float[] {1, 2, 3}, gguf.require("f").toFloats());
        }
    }

    @Test
    void writerRefusesWhatLlamaCppCannotLoad() {
        GgufWriter writer = new GgufWriter();
        assertThrows(IllegalArgumentException.class, () -> writer.put("nested",
                new GgufValue(GgufType.ARRAY, GgufType.ARRAY, List.of(List.of(1L)))));
        assertThrows(IllegalArgumentException.class, () -> writer.put("byte", new GgufValue(GgufType.UINT8, null, 300L)));
        assertThrows(IllegalArgumentException.class, () -> writer.put("ints", GgufValue.array(GgufType.INT32, List.of("1"))));
        assertThrows(IllegalArgumentException.class, () -> writer.add("five", DType.F32, new long[] {1, 1, 1, 1, 1}, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> writer.add("n".repeat(64), DType.F32, new long[] {1}, new float[1]));
        IllegalArgumentException blocks = assertThrows(IllegalArgumentException.class,
                () -> writer.add("q", DType.Q4_0, new long[] {2, 33}, new float[66]));
        assertTrue(blocks.getMessage().contains("whole blocks of 32"), blocks.getMessage());
        writer.put("general.alignment", GgufValue.uint32(48));
        assertThrows(IllegalArgumentException.class, () -> writer.write(dir.resolve("bad.gguf")));
        assertTrue(!Files.exists(dir.resolve("bad.gguf")) && !Files.exists(dir.resolve("bad.gguf.partial")));
    }

    @Test
    void failedWriteLeavesNoFileBehind() {
        Path file = dir.resolve("nan.gguf");
        float[] values = new float[32];
        values[9] = Float.NaN;
        GgufWriter writer = new GgufWriter().add("q", DType.Q8_0, new long[] {32}, values);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> writer.write(file));
        assertTrue(e.getMessage().contains("tensor q, row 0"), e.getMessage());
        assertTrue(!Files.exists(file) && !Files.exists(dir.resolve("nan.gguf.partial")));
    }
}
