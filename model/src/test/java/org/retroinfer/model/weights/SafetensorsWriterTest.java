package org.retroinfer.model.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.Half;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    /** Expected bytes from the safetensors crate's own tests (tensor.rs: test_serialization). */
    @Test
    void f32TensorIsWrittenByteForByteAsTheSafetensorsLibraryWritesIt() throws IOException {
        Path file = dir.resolve("a.safetensors");
        new SafetensorsWriter().metadata(Map.of())
                .add("attn.0", DType.F32, new long[] {1, 2, 3}, new float[] {0, 1, 2, 3, 4, 5}).write(file);
        assertArrayEquals(bytes(
                64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
                116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
                58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
                101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
                0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64), Files.readAllBytes(file));
    }

    /** Expected bytes from the safetensors crate's test_serialization_forced_alignement: spaces pad the header. */
    @Test
    void headerIsPaddedWithSpacesToAMultipleOfEightBytes() throws IOException {
        Path file = dir.resolve("b.safetensors");
        new SafetensorsWriter().metadata(Map.of())
                .add("attn0", DType.F32, new long[] {1, 1, 2, 3}, new float[] {0, 1, 2, 3, 4, 5}).write(file);
        assertArrayEquals(bytes(
                72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
                121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
                91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
                115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
                32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
                160, 64), Files.readAllBytes(file));
    }

    /** Expected bytes from the safetensors crate's test_empty, with and without metadata. */
    @Test
    void emptyFilesMatchTheSafetensorsLibrary() throws IOException {
        Path bare = dir.resolve("bare.safetensors");
        new SafetensorsWriter().metadata(Map.of()).write(bare);
        assertArrayEquals(bytes(8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32), Files.readAllBytes(bare));
        Path withMetadata = dir.resolve("meta.safetensors");
        new SafetensorsWriter().metadata(Map.of("framework", "pt")).write(withMetadata);
        assertArrayEquals(bytes(
                40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
                95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
                116, 34, 125, 125, 32, 32, 32, 32, 32), Files.readAllBytes(withMetadata));
    }

    @Test
    void tensorsAreOrderedByDtypeThenNameWithTheTransformersMetadataFirst() throws IOException {
        Path file = dir.resolve("order.safetensors");
        new SafetensorsWriter()
                .add("a", DType.F16, new long[] {1}, new float[] {1})
                .add("b", DType.F32, new long[] {1}, new float[] {1})
                .add("c", DType.BF16, new long[] {1}, new float[] {1})
                .add("B", DType.F32, new long[] {1}, new float[] {1})
                .write(file);
        byte[] all = Files.readAllBytes(file);
        String header = new String(all, 8, (int) MemorySegment.ofArray(all).get(ValueLayout.JAVA_LONG_UNALIGNED, 0),
                StandardCharsets.UTF_8);
        assertEquals("{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"B\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"c\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[8,10]},"
                + "\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[10,12]}}", header.stripTrailing());
        try (SafetensorsFile read = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt"), read.metadata());
        }
    }

    @Test
    void everyDtypeRoundTripsToTheValuesRoundedToNearestEven() {
        long seed = System.nanoTime();
        System.out.println("everyDtypeRoundTripsToTheValuesRoundedToNearestEven seed " + seed);
        Random random = new Random(seed);
        Path file = dir.resolve("all.safetensors");
        SafetensorsWriter writer = new SafetensorsWriter();
        List<float[]> values = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        DType[] types = {DType.F32, DType.F16, DType.BF16, DType.F32, DType.BF16};
        for (int t = 0; t < types.length; t++) {
            long[] shape = t == 3 ? new long[0] : new long[] {1 + random.nextInt(5), 1 + random.nextInt(7), 1 + random.nextInt(9)};
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            float[] v = new float[(int) n];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(6) - 3));
            }
            writer.add("model.t" + t, types[t], shape, v);
            values.add(v);
            shapes.add(shape);
        }
        writer.write(file);
        try (SafetensorsFile read = SafetensorsFile.open(file)) {
            assertEquals(types.length, read.tensorNames().size());
            for (int t = 0; t < types.length; t++) {
                Tensor tensor = read.require("model.t" + t);
                assertEquals(types[t], tensor.type());
                assertArrayEquals(shapes.get(t), tensor.shape());
                assertTrue(tensor.data().isMapped(), "tensor data must be a slice of the mapping");
                float[] back = tensor.toFloats();
                for (int i = 0; i < back.length; i++) {
                    float expected = types[t] == DType.F32 ? values.get(t)[i]
                            : Half.toFloat(types[t], Half.fromFloat(types[t], values.get(t)[i]));
                    assertEquals(expected, back[i], "seed " + seed + " tensor " + t + " value " + i);
                }
            }
        }
    }

    @Test
    void rowSourcesAndRawBytesAreWrittenAsGiven() {
        Path file = dir.resolve("rows.safetensors");
        byte[] raw = {0x00, 0x3C, 0x00, (byte) 0xC0};
        new SafetensorsWriter()
                .add("rows", DType.F32, new long[] {3, 2}, (row, out) -> {
                    out[0] = row;
                    out[1] = -row;
                })
                .addRaw("raw", DType.F16, new long[] {2}, MemorySegment.ofArray(raw))
                .write(file);
        try (SafetensorsFile read = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {0, 0, 1, -1, 2, -2}, read.require("rows").toFloats());
            assertArrayEquals(new float[] {1, -2}, read.require("raw").toFloats());
        }
    }

    @Test
    void namesNeedingJsonEscapesRoundTrip() {
        Path file = dir.resolve("names.safetensors");
        String odd = "quote\" back\\slash tab\t é 日本 \u0001 😀";
        new SafetensorsWriter().add(odd, DType.F32, new long[] {1}, new float[] {7}).write(file);
        try (SafetensorsFile read = SafetensorsFile.open(file)) {
            assertEquals(7f, read.require(odd).toFloats()[0]);
        }
    }

    @Test
    void writerRefusesQuantisedTypesMismatchedValuesAndDuplicates() {
        SafetensorsWriter writer = new SafetensorsWriter();
        assertThrows(IllegalArgumentException.class, () -> writer.add("q", DType.Q8_0, new long[] {32}, new float[32]));
        assertThrows(IllegalArgumentException.class, () -> writer.add("n", DType.F32, new long[] {2, 2}, new float[3]));
        writer.add("x", DType.F32, new long[] {1}, new float[1]);
        assertThrows(IllegalArgumentException.class, () -> writer.add("x", DType.F32, new long[] {1}, new float[1]));
    }

    @Test
    void shardedCheckpointRoundTripsThroughTheIndex() throws IOException {
        long seed = System.nanoTime();
        System.out.println("shardedCheckpointRoundTripsThroughTheIndex seed " + seed);
        Random random = new Random(seed);
        SafetensorsWriter writer = new SafetensorsWriter();
        float[][] values = new float[5][];
        for (int t = 0; t < values.length; t++) {
            values[t] = new float[64];
            for (int i = 0; i < 64; i++) {
                values[t][i] = (float) random.nextGaussian();
            }
            writer.add("layers." + t + ".weight", DType.F32, new long[] {8, 8}, values[t]);
        }
        Path checkpoint = dir.resolve("ckpt");
        // 256 bytes per tensor: two per 600-byte shard, so shards of 2, 2 and 1 tensors.
        List<Path> files = writer.writeSharded(checkpoint, 600);
        assertEquals(List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors", "model.safetensors.index.json"),
                files.stream().map(p -> p.getFileName().toString()).toList());
        assertEquals("""
                {
                  "metadata": {
                    "total_size": 1280
                  },
                  "weight_map": {
                    "layers.0.weight": "model-00001-of-00003.safetensors",
                    "layers.1.weight": "model-00001-of-00003.safetensors",
                    "layers.2.weight": "model-00002-of-00003.safetensors",
                    "layers.3.weight": "model-00002-of-00003.safetensors",
                    "layers.4.weight": "model-00003-of-00003.safetensors"
                  }
                }
                """, Files.readString(checkpoint.resolve("model.safetensors.index.json")));
        try (WeightFile read = WeightFiles.open(checkpoint)) {
            assertEquals(5, read.tensorNames().size());
            for (int t = 0; t < values.length; t++) {
                Tensor tensor = read.require("layers." + t + ".weight");
                assertArrayEquals(values[t], tensor.toFloats(), "seed " + seed);
                assertEquals("model-0000" + (t / 2 + 1) + "-of-00003.safetensors", tensor.file().getFileName().toString());
            }
        }
    }

    @Test
    void checkpointThatFitsOneShardIsASingleModelSafetensors() {
        Path checkpoint = dir.resolve("one");
        List<Path> files = new SafetensorsWriter().add("w", DType.BF16, new long[] {4}, new float[] {1, 2, 3, 4})
                .writeSharded(checkpoint, 1 << 20);
        assertEquals(List.of(checkpoint.resolve("model.safetensors")), files);
        assertFalse(Files.exists(checkpoint.resolve("model.safetensors.index.json")));
        try (WeightFile read = WeightFiles.open(checkpoint)) {
            assertArrayEquals(new float[] {1, 2, 3, 4}, read.require("w").toFloats());
        }
    }
}
