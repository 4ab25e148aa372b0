package org.retroinfer.model.weights;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.retroinfer.kernels.DType;

/**
 * Writes a GGUF v3 file (little-endian) the way llama.cpp's gguf-py GGUFWriter does: header, the
 * metadata in insertion order, the tensor infos (dims innermost first, offsets relative to the data
 * section, each tensor padded to the alignment), zero padding to the alignment, then the tensor data
 * in the same order. The alignment is 32 unless the metadata sets {@code general.alignment} (a UINT32
 * power of two), which is then honoured as llama.cpp honours it.
 *
 * <p>Tensors are given as floats with a row-major shape and stored as F32, F16, BF16 (rounded to
 * nearest even) or Q8_0, Q4_0 (quantised by ggml's reference rules, {@link org.retroinfer.kernels.Quantize}).
 * It refuses what llama.cpp would refuse to load: more than 4 dimensions, names of 64 bytes or more,
 * rows that are not whole blocks, arrays of arrays in the metadata.
 */
public final class GgufWriter {
    /** ggml's GGML_MAX_NAME: llama.cpp refuses tensor names of this many bytes or more. */
    static final int MAX_NAME_BYTES = 64;

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final Map<String, TensorPayload> tensors = new LinkedHashMap<>();

    /** Adds (or replaces, keeping its place) one metadata entry. */
    public GgufWriter put(String key, GgufValue value) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("GGUF metadata keys must not be empty");
        }
        checkValue(key, value);
        metadata.put(key, value);
        return this;
    }

    /** Adds every entry, in the map's iteration order. */
    public GgufWriter putAll(Map<String, GgufValue> values) {
        values.forEach(this::put);
        return this;
    }

    /** A tensor from row-major values, stored as {@code type} when written. */
    public GgufWriter add(String name, DType type, long[] shape, float[] values) {
        return add(TensorPayload.of(name, type, shape, values));
    }

    /** A tensor whose rows (last dimension) come from {@code rows} when written. */
    public GgufWriter add(String name, DType type, long[] shape, RowSource rows) {
        return add(new TensorPayload(name, type, shape, rows, null));
    }

    private GgufWriter add(TensorPayload tensor) {
        if (tensor.name().getBytes(StandardCharsets.UTF_8).length >= MAX_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name " + tensor.name() + " has " + MAX_NAME_BYTES
                    + " or more UTF-8 bytes; llama.cpp refuses such names");
        }
        if (tensor.shape().length > GgufFile.MAX_DIMS) {
            throw new IllegalArgumentException("tensor " + tensor.name() + " has " + tensor.shape().length
                    + " dimensions; GGUF allows at most " + GgufFile.MAX_DIMS);
        }
        if (tensors.putIfAbsent(tensor.name(), tensor) != null) {
            throw new IllegalArgumentException("tensor " + tensor.name() + " was already added");
        }
        return this;
    }

    /** Writes the file; on failure nothing is left under {@code file}'s name. */
    public void write(Path file) {
        long alignment = alignment();
        Bytes header = new Bytes();
        header.u32(0x46554747);
        header.u32(3);
        header.u64(tensors.size());
        header.u64(metadata.size());
        metadata.forEach((key, value) -> {
            header.string(key);
            header.u32(value.type().code());
            value(header, value.type(), value.elementType(), value.value());
        });
        long offset = 0;
        for (TensorPayload t : tensors.values()) {
            header.string(t.name());
            long[] shape = t.shape();
            header.u32(shape.length);
            for (int d = shape.length - 1; d >= 0; d--) {
                header.u64(shape[d]);
            }
            header.u32(GgmlType.code(t.type()));
            header.u64(offset);
            offset += GgufFile.alignUp(t.bytes(), alignment);
        }
        try (TensorOutput out = new TensorOutput(file)) {
            out.write(header.toByteArray());
            out.padTo(alignment);
            for (TensorPayload t : tensors.values()) {
                out.writeTensor(t);
                out.padTo(alignment);
            }
            out.commit();
        }
    }

    private long alignment() {
        GgufValue value = metadata.get(GgufFile.ALIGNMENT_KEY);
        if (value == null) {
            return GgufFile.DEFAULT_ALIGNMENT;
        }
        long a = value.type() == GgufType.UINT32 ? value.asLong() : 0;
        if (a == 0 || (a & (a - 1)) != 0) {
            throw new IllegalArgumentException(GgufFile.ALIGNMENT_KEY + " must be a UINT32 power of two, got " + value);
        }
        return a;
    }

    private static void checkValue(String key, GgufValue value) {
        if (value.type() == GgufType.ARRAY) {
            if (value.elementType() == GgufType.ARRAY) {
                throw new IllegalArgumentException("metadata key " + key + " is an array of arrays, which llama.cpp cannot read");
            }
            List<?> list = value.asList();
            for (int i = 0; i < list.size(); i++) {
                checkScalar(key + "[" + i + "]", value.elementType(), list.get(i));
            }
        } else {
            checkScalar(key, value.type(), value.value());
        }
    }

    private static void checkScalar(String key, GgufType type, Object v) {
        boolean ok = switch (type) {
            case UINT8 -> v instanceof Long l && l >= 0 && l <= 0xFF;
            case INT8 -> v instanceof Long l && l >= Byte.MIN_VALUE && l <= Byte.MAX_VALUE;
            case UINT16 -> v instanceof Long l && l >= 0 && l <= 0xFFFF;
            case INT16 -> v instanceof Long l && l >= Short.MIN_VALUE && l <= Short.MAX_VALUE;
            case UINT32 -> v instanceof Long l && l >= 0 && l <= 0xFFFF_FFFFL;
            case INT32 -> v instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE;
            case UINT64 -> v instanceof Long l && l >= 0;
            case INT64 -> v instanceof Long;
            case FLOAT32, FLOAT64 -> v instanceof Double;
            case BOOL -> v instanceof Boolean;
            case STRING -> v instanceof String;
            case ARRAY -> false;
        };
        if (!ok) {
            throw new IllegalArgumentException("metadata key " + key + ": " + v + " is not a valid GGUF " + type);
        }
    }

    private static void value(Bytes out, GgufType type, GgufType elementType, Object v) {
        switch (type) {
            case UINT8, INT8 -> out.u8((Long) v);
            case UINT16, INT16 -> out.u16((Long) v);
            case UINT32, INT32 -> out.u32((Long) v);
            case UINT64, INT64 -> out.u64((Long) v);
            case FLOAT32 -> out.u32(Float.floatToRawIntBits((float) (double) (Double) v));
            case FLOAT64 -> out.u64(Double.doubleToRawLongBits((Double) v));
            case BOOL -> out.u8((Boolean) v ? 1 : 0);
            case STRING -> out.string((String) v);
            case ARRAY -> {
                List<?> list = (List<?>) v;
                out.u32(elementType.code());
                out.u64(list.size());
                for (Object item : list) {
                    value(out, elementType, null, item);
                }
            }
        }
    }

    /** The header under construction, little-endian. */
    private static final class Bytes extends ByteArrayOutputStream {
        void u8(long v) {
            write((int) v);
        }

        void u16(long v) {
            u8(v);
            u8(v >>> 8);
        }

        void u32(long v) {
            u16(v);
            u16(v >>> 16);
        }

        void u64(long v) {
            u32(v);
            u32(v >>> 32);
        }

        void string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            u64(bytes.length);
            write(bytes, 0, bytes.length);
        }
    }
}
