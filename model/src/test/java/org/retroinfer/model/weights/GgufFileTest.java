package org.retroinfer.model.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.kernels.DType;

class GgufFileTest {
    @TempDir
    Path dir;

    private Path write(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    private static String rejected(Path file) {
        ModelFileException e = assertThrows(ModelFileException.class, () -> GgufFile.open(file).close());
        assertEquals(file, e.file());
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), "one line: " + e.getMessage());
        System.out.println(e.getMessage());
        return e.getMessage();
    }

    /** Header of a hand-made GGUF file. */
    private static LeBytes header(int version, long tensors, long kvs) {
        return new LeBytes().ascii("GGUF").u32(version).u64(tensors).u64(kvs);
    }

    /** One tensor info: name, dims (innermost first), ggml type, offset. */
    private static LeBytes info(LeBytes b, String name, long[] ne, int type, long offset) {
        b.str(name).u32(ne.length);
        for (long d : ne) {
            b.u64(d);
        }
        return b.u32(type).u64(offset);
    }

    @Test
    void version2FileWithNestedArraysIsRead() throws IOException {
        LeBytes b = header(2, 1, 3);
        b.str("general.architecture").u32(8).str("llama");
        // An array (type 9) of 2 arrays of INT32 (type 5): [[1, -2], [3]].
        b.str("test.nested").u32(9).u32(9).u64(2)
                .u32(5).u64(2).u32(1).u32(-2)
                .u32(5).u64(1).u32(3);
        b.str("test.flag").u32(7).u8(1);
        info(b, "t", new long[] {2, 1}, 0, 0).zerosTo(32).f32(1.5f).f32(-2.5f);
        try (GgufFile gguf = GgufFile.open(write("v2.gguf", b.bytes()))) {
            assertEquals(2, gguf.version());
            assertEquals("llama", gguf.metadata().string("general.architecture"));
            GgufValue nested = gguf.metadata().require("test.nested");
            assertEquals(GgufType.ARRAY, nested.elementType());
            assertEquals(List.of(List.of(1L, -2L), List.of(3L)), nested.asList());
            assertTrue(gguf.metadata().bool("test.flag"));
            Tensor t = gguf.require("t");
            assertArrayEquals(new long[] {1, 2}, t.shape());
            assertArrayEquals(new float[] {1.5f, -2.5f}, t.toFloats());
        }
    }

    @Test
    void truncatedGgufFileIsRejectedWithItsPath() throws IOException {
        Path whole = dir.resolve("whole.gguf");
        new GgufWriter().put("general.architecture", GgufValue.string("llama"))
                .put("tokenizer.ggml.tokens", GgufValue.array(GgufType.STRING, List.of("a", "b", "c")))
                .add("w", DType.Q8_0, new long[] {4, 32}, new float[128]).write(whole);
        byte[] bytes = Files.readAllBytes(whole);
        long dataStart;
        try (GgufFile gguf = GgufFile.open(whole)) {
            dataStart = gguf.dataOffset();
        }
        // Inside the magic, the version, the first key, the token array, the tensor info, the data.
        int[] cuts = {2, 6, 30, 100, (int) dataStart - 20, (int) dataStart + 50, bytes.length - 32 - 1};
        for (int cut : cuts) {
            String message = rejected(write("cut" + cut + ".gguf", Arrays.copyOf(bytes, cut)));
            assertTrue(message.contains("truncated"), message);
        }
        // The data is 4 blocks of 34 bytes, padded to 160: cut inside it, the exact shortfall is named.
        String message = rejected(write("cutdata.gguf", Arrays.copyOf(bytes, (int) dataStart + 100)));
        assertTrue(message.contains("tensor w's data ends at byte " + (dataStart + 136)), message);
        assertTrue(message.contains("(36 bytes missing)"), message);
    }

    @Test
    void wrongMagicAndUnsupportedVersionsAreRejected() throws IOException {
        assertTrue(rejected(write("ggml.gguf", new LeBytes().ascii("ggjt").u32(3).bytes()))
                .contains("is not a GGUF file: it starts with 'ggjt'"));
        assertTrue(rejected(write("v1.gguf", header(1, 0, 0).bytes())).contains("GGUF v1"));
        assertTrue(rejected(write("v9.gguf", header(9, 0, 0).bytes())).contains("GGUF version 9"));
        byte[] bigEndian = new LeBytes().ascii("GGUF").u8(0).u8(0).u8(0).u8(3).u64(0).u64(0).bytes();
        assertTrue(rejected(write("be.gguf", bigEndian)).contains("big-endian"));
    }

    @Test
    void unsupportedTensorTypeIsNamedWithTheSupportedOnes() throws IOException {
        LeBytes b = info(header(3, 1, 0), "blk.0.attn_q.weight", new long[] {256, 2}, 12, 0).zerosTo(32);
        b.raw(new byte[2 * 144]);
        String message = rejected(write("q4k.gguf", b.bytes()));
        assertTrue(message.contains("tensor blk.0.attn_q.weight is stored as Q4_K (ggml type 12)"), message);
        assertTrue(message.contains("F32, F16, BF16, Q8_0 and Q4_0"), message);
        String unknown = rejected(write("t99.gguf", info(header(3, 1, 0), "x", new long[] {1}, 99, 0).zerosTo(32).u32(0).bytes()));
        assertTrue(unknown.contains("ggml type 99"), unknown);
    }

    @Test
    void absurdCountsAndLengthsAreRejectedBeforeAnythingIsAllocated() throws IOException {
        assertTrue(rejected(write("tensors.gguf", header(3, 1L << 40, 0).bytes())).contains("claims 1099511627776 tensors"));
        assertTrue(rejected(write("kvs.gguf", header(3, 0, -1).bytes())).contains("claims 18446744073709551615 metadata"));
        byte[] longKey = header(3, 0, 1).u64(1L << 50).ascii("abcdefgh").bytes();
        assertTrue(rejected(write("key.gguf", longKey)).contains("claims 1125899906842624 bytes"));
        byte[] bigArray = header(3, 0, 1).str("k").u32(9).u32(4).u64(1L << 33).u32(0).bytes();
        assertTrue(rejected(write("array.gguf", bigArray)).contains("claims 8589934592 elements"));
    }

    @Test
    void corruptTensorInfosAreRejected() throws IOException {
        String dims = rejected(write("dims.gguf", info(header(3, 1, 0), "x", new long[] {1, 1, 1, 1, 1}, 0, 0).bytes()));
        assertTrue(dims.contains("5 dimensions"), dims);
        String rows = rejected(write("rows.gguf", info(header(3, 1, 0), "q", new long[] {48}, 8, 0).zerosTo(32)
                .raw(new byte[64]).bytes()));
        assertTrue(rows.contains("rows of 48 values"), rows);
        String misaligned = rejected(write("misaligned.gguf", info(header(3, 1, 0), "x", new long[] {1}, 0, 4).zerosTo(32)
                .raw(new byte[8]).bytes()));
        assertTrue(misaligned.contains("not a multiple of the alignment 32"), misaligned);
        LeBytes twice = header(3, 2, 0);
        info(twice, "a", new long[] {16}, 0, 0);
        info(twice, "b", new long[] {16}, 0, 32).zerosTo(32).raw(new byte[96]);
        assertTrue(rejected(write("overlap.gguf", twice.bytes())).contains("the data of tensors a and b overlap"));
        LeBytes same = header(3, 2, 0);
        info(same, "a", new long[] {1}, 0, 0);
        info(same, "a", new long[] {1}, 0, 32).zerosTo(32).raw(new byte[64]);
        assertTrue(rejected(write("dup.gguf", same.bytes())).contains("tensor a appears twice"));
    }

    @Test
    void corruptMetadataIsRejected() throws IOException {
        assertTrue(rejected(write("type.gguf", header(3, 0, 1).str("k").u32(13).u32(0).bytes()))
                .contains("value type 13"));
        assertTrue(rejected(write("dupkey.gguf", header(3, 0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(2).bytes()))
                .contains("metadata key k appears twice"));
        assertTrue(rejected(write("align.gguf", header(3, 0, 1).str("general.alignment").u32(10).u64(64).bytes()))
                .contains("general.alignment must be a UINT32 but is a UINT64"));
        assertTrue(rejected(write("align3.gguf", header(3, 0, 1).str("general.alignment").u32(4).u32(24).bytes()))
                .contains("not a power of two"));
        byte[] badUtf8 = header(3, 0, 1).str("k").u32(8).u64(2).u8(0xC3).u8(0x28).bytes();
        assertTrue(rejected(write("utf8.gguf", badUtf8)).contains("not valid UTF-8"));
        byte[] hugeU64 = header(3, 0, 1).str("k").u32(10).u64(-1).bytes();
        assertTrue(rejected(write("u64.gguf", hugeU64)).contains("beyond the 2^63 - 1"));
    }

    @Test
    void metadataGettersNameTheKeyAndTheFile() throws IOException {
        Path file = dir.resolve("meta.gguf");
        new GgufWriter()
                .put("llama.context_length", GgufValue.uint32(8192))
                .put("llama.rope.freq_base", GgufValue.float32(500000))
                .put("tokenizer.ggml.model", GgufValue.string("gpt2"))
                .put("tokenizer.ggml.tokens", GgufValue.array(GgufType.STRING, List.of("a", "b")))
                .put("tokenizer.ggml.token_type", GgufValue.array(GgufType.INT32, List.of(1L, 3L)))
                .put("tokenizer.ggml.scores", GgufValue.array(GgufType.FLOAT32, List.of(0.0, -1.5)))
                .write(file);
        try (GgufFile gguf = GgufFile.open(file)) {
            GgufMetadata m = gguf.metadata();
            assertEquals(8192, m.integer("llama.context_length"));
            assertEquals(8192.0, m.number("llama.context_length"));
            assertEquals(500000.0, m.number("llama.rope.freq_base"));
            assertEquals("gpt2", m.string("tokenizer.ggml.model"));
            assertEquals(List.of("a", "b"), m.strings("tokenizer.ggml.tokens"));
            assertEquals(List.of(1L, 3L), m.integers("tokenizer.ggml.token_type"));
            assertEquals(List.of(0.0, -1.5), m.numbers("tokenizer.ggml.scores"));
            assertEquals(Optional.empty(), m.optionalStrings("tokenizer.ggml.merges"));
            assertTrue(m.optionalInteger("llama.expert_count").isEmpty());
            assertEquals(8192, m.optionalInteger("llama.context_length").getAsLong());

            ModelFileException missing = assertThrows(ModelFileException.class, () -> m.integer("llama.block_count"));
            assertTrue(missing.getMessage().startsWith(file + ": metadata key llama.block_count is missing"), missing.getMessage());
            ModelFileException wrong = assertThrows(ModelFileException.class, () -> m.integer("llama.rope.freq_base"));
            assertTrue(wrong.getMessage().startsWith(file + ": metadata key llama.rope.freq_base is a FLOAT32 but must be an integer"),
                    wrong.getMessage());
            ModelFileException array = assertThrows(ModelFileException.class, () -> m.strings("tokenizer.ggml.scores"));
            assertTrue(array.getMessage().contains("is an array of FLOAT32 but must be an array of strings"), array.getMessage());
            assertThrows(ModelFileException.class, () -> m.string("tokenizer.ggml.tokens"));
        }
    }

    @Test
    void fileWithoutTensorsHasItsDataWhereTheHeaderEnds() throws IOException {
        byte[] bytes = header(3, 0, 1).str("general.name").u32(8).str("empty").bytes();
        try (GgufFile gguf = GgufFile.open(write("empty.gguf", bytes))) {
            assertTrue(gguf.tensorNames().isEmpty());
            assertEquals(bytes.length, gguf.dataOffset());
            assertEquals("empty", gguf.metadata().string("general.name"));
        }
    }

    @Test
    void shardOfASplitModelIsRefusedWithHowToMergeIt() throws IOException {
        Path file = dir.resolve("model-00001-of-00002.gguf");
        new GgufWriter().put("split.no", new GgufValue(GgufType.UINT16, null, 0L))
                .put("split.count", new GgufValue(GgufType.UINT16, null, 2L))
                .add("x", DType.F32, new long[] {1}, new float[1]).write(file);
        String message = rejected(file);
        assertTrue(message.contains("is shard 1 of 2 of a split GGUF model"), message);
        assertTrue(message.contains("llama-gguf-split --merge"), message);
    }
}
