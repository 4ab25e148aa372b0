package org.retroinfer.model.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.kernels.DType;

/**
 * Files larger than 4 GiB, with a small tensor beyond byte 2^32: any 32-bit offset arithmetic
 * would read the wrong bytes. The files are sparse (only the header and the small tensor are
 * written), so they take a few kilobytes of disk.
 */
class LargeOffsetTest {
    /** A zero-filled F32 tensor of 2^30 + 8 values, 2^32 + 32 bytes, pushes the next one past 4 GiB. */
    private static final long FILLER_VALUES = (1L << 30) + 8;
    private static final long FILLER_BYTES = 4 * FILLER_VALUES;
    private static final float[] SMALL = {1.5f, -2.25f, 3.125f, 1e-3f, -7f, 0.5f, 42f, -0.125f};

    @TempDir
    Path dir;

    /** Writes {@code header} and then SMALL at {@code smallOffset} into a sparse file of {@code length} bytes. */
    private static Path sparse(Path file, byte[] header, long smallOffset, long length) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(length);
            raf.write(header);
            LeBytes small = new LeBytes();
            for (float v : SMALL) {
                small.f32(v);
            }
            raf.seek(smallOffset);
            raf.write(small.bytes());
        } catch (IOException e) {
            Files.deleteIfExists(file);
            Assumptions.abort("this filesystem cannot make a sparse " + length + "-byte file (" + e.getMessage()
                    + "); the 64-bit offset test is skipped");
        }
        return file;
    }

    @Test
    void safetensorsTensorBeyondFourGibibytesIsReadCorrectly() throws IOException {
        String json = "{\"filler\":{\"dtype\":\"F32\",\"shape\":[" + FILLER_VALUES + "],\"data_offsets\":[0," + FILLER_BYTES + "]},"
                + "\"small\":{\"dtype\":\"F32\",\"shape\":[2,4],\"data_offsets\":[" + FILLER_BYTES + "," + (FILLER_BYTES + 32) + "]}}";
        byte[] header = LeBytes.safetensors(json, new byte[0]);
        long smallOffset = header.length + FILLER_BYTES;
        assertTrue(smallOffset > 1L << 32);
        Path file = sparse(dir.resolve("big.safetensors"), header, smallOffset, smallOffset + 32);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertArrayEquals(SMALL, st.require("small").requireShape(2, 4).toFloats());
            Tensor filler = st.require("filler");
            assertEquals(FILLER_BYTES, filler.data().byteSize());
            assertEquals(0f, filler.data().get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, FILLER_BYTES - 4));
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void ggufTensorBeyondFourGibibytesIsReadCorrectly() throws IOException {
        LeBytes b = new LeBytes().ascii("GGUF").u32(3).u64(2).u64(0);
        b.str("filler").u32(1).u64(FILLER_VALUES).u32(0).u64(0);
        b.str("small").u32(2).u64(4).u64(2).u32(0).u64(FILLER_BYTES);
        byte[] header = b.zerosTo(32).bytes();
        long smallOffset = header.length + FILLER_BYTES;
        assertTrue(smallOffset > 1L << 32);
        Path file = sparse(dir.resolve("big.gguf"), header, smallOffset, smallOffset + 32);
        try (GgufFile gguf = GgufFile.open(file)) {
            assertEquals(header.length, gguf.dataOffset());
            Tensor small = gguf.require("small").requireShape(2, 4).requireType(DType.F32);
            assertArrayEquals(SMALL, small.toFloats());
            assertEquals(-0.125f, small.asMatrix().get(1, 3));
            assertEquals(FILLER_BYTES, gguf.require("filler").data().byteSize());
        } finally {
            Files.delete(file);
        }
    }
}
