package org.retroinfer.model.weights;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Little-endian bytes for hand-made test files, written independently of the production writers. */
final class LeBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    LeBytes u8(int v) {
        out.write(v);
        return this;
    }

    LeBytes u32(long v) {
        for (int i = 0; i < 4; i++) {
            out.write((int) (v >>> (8 * i)));
        }
        return this;
    }

    LeBytes u64(long v) {
        for (int i = 0; i < 8; i++) {
            out.write((int) (v >>> (8 * i)));
        }
        return this;
    }

    LeBytes f32(float v) {
        return u32(Float.floatToRawIntBits(v));
    }

    LeBytes raw(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    LeBytes ascii(String s) {
        return raw(s.getBytes(StandardCharsets.US_ASCII));
    }

    /** A GGUF string: u64 byte count, then UTF-8. */
    LeBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return u64(b.length).raw(b);
    }

    LeBytes zerosTo(int alignment) {
        while (out.size() % alignment != 0) {
            out.write(0);
        }
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    /** A whole safetensors file: u64 header length, the header padded with spaces to 8 bytes, the data. */
    static byte[] safetensors(String headerJson, byte[] data) {
        byte[] json = headerJson.getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        LeBytes b = new LeBytes().u64(padded).raw(json);
        for (int i = json.length; i < padded; i++) {
            b.u8(' ');
        }
        return b.raw(data).bytes();
    }
}
