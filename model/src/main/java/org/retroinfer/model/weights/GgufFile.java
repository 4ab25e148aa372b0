package org.retroinfer.model.weights;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import org.retroinfer.kernels.DType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A GGUF file (llama.cpp's format, versions 2 and 3, little-endian), memory-mapped. Layout: magic
 * "GGUF", u32 version, u64 tensor count, u64 metadata count, the metadata key/value pairs, one info
 * per tensor (name, u32 n_dims, u64 ne[n_dims] innermost first, u32 ggml type, u64 offset), padding
 * to {@code general.alignment} (32 by default), then the tensor data, each offset relative to the
 * start of that data section. The header is checked completely at open: every count and length
 * against the file size, every tensor's type, shape and bytes.
 */
public final class GgufFile implements WeightFile {
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String ALIGNMENT_KEY = "general.alignment";
    static final String SPLIT_COUNT_KEY = "split.count";
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;
    /** Deeper arrays of arrays are refused rather than followed into a stack overflow. */
    private static final int MAX_ARRAY_NESTING = 16;

    private static final Logger LOG = LoggerFactory.getLogger(GgufFile.class);

    private final MappedFile file;
    private final int version;
    private final GgufMetadata metadata;
    private final long alignment;
    private final long dataOffset;
    private final TreeMap<String, Tensor> tensors;

    private record Info(String name, DType type, long[] ne, long offset, long bytes) {}

    private GgufFile(MappedFile file, int version, GgufMetadata metadata, long alignment, long dataOffset,
                     TreeMap<String, Tensor> tensors) {
        this.file = file;
        this.version = version;
        this.metadata = metadata;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
        this.tensors = tensors;
    }

    /** Maps and checks {@code path}; any problem is a {@link ModelFileException} naming it. */
    public static GgufFile open(Path path) {
        MappedFile mapped = MappedFile.open(path, "GGUF");
        try {
            GgufFile result = read(mapped);
            LOG.debug("{}: GGUF v{}, {} metadata keys, {} tensors", path, result.version,
                    result.metadata.all().size(), result.tensors.size());
            return result;
        } catch (RuntimeException e) {
            mapped.close();
            throw e;
        }
    }

    private static GgufFile read(MappedFile mapped) {
        Path path = mapped.path();
        GgufCursor in = new GgufCursor(path, mapped.segment(), 0);
        int magic = in.i32("the 4-byte magic");
        if (magic != 0x46554747) {
            throw new ModelFileException(path, "is not a GGUF file: it starts with " + printable(magic)
                    + " instead of the magic GGUF; RetroInfer reads Hugging Face safetensors and GGUF files");
        }
        int version = checkVersion(path, in.i32("the version"));
        long tensorCount = in.i64("the tensor count");
        long kvCount = in.i64("the metadata count");
        // The smallest metadata pair is a 0-byte key (8) + type (4) + a 1-byte value; the smallest
        // tensor info a 0-byte name (8) + n_dims (4) + type (4) + offset (8).
        in.checkCount(kvCount, 13, "metadata entries");
        in.checkCount(tensorCount, 24, "tensors");

        Map<String, GgufValue> values = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = in.string("the key of metadata entry " + i);
            if (key.isEmpty()) {
                throw corrupt(path, "metadata entry " + i + " has an empty key");
            }
            if (values.containsKey(key)) {
                throw corrupt(path, "metadata key " + key + " appears twice");
            }
            values.put(key, readValue(in, path, key, type(in, path, "metadata key " + key), 0));
        }
        GgufMetadata metadata = new GgufMetadata(path, values);
        long alignment = alignment(path, values.get(ALIGNMENT_KEY));
        // llama.cpp's gguf-split writes shards that each hold only some tensors; read alone, one would
        // fail later with a misleading "tensor missing".
        long splits = metadata.optionalInteger(SPLIT_COUNT_KEY).orElse(1);
        if (splits > 1) {
            throw new ModelFileException(path, "is shard " + (metadata.optionalInteger("split.no").orElse(0) + 1) + " of "
                    + splits + " of a split GGUF model, which RetroInfer reads only whole: merge the shards with"
                    + " llama-gguf-split --merge first");
        }

        List<Info> infos = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            Info info = readInfo(in, path, i);
            if (!names.add(info.name)) {
                throw corrupt(path, "tensor " + info.name + " appears twice");
            }
            infos.add(info);
        }
        long dataOffset = infos.isEmpty() ? in.position() : alignUp(in.position(), alignment);
        TreeMap<String, Tensor> tensors = placeTensors(mapped, infos, dataOffset, alignment);
        return new GgufFile(mapped, version, metadata, alignment, dataOffset, tensors);
    }

    private static int checkVersion(Path path, int version) {
        if (version != 0 && (version & 0xFFFF) == 0) {
            throw new ModelFileException(path, "is a big-endian GGUF file (its version reads as " + Integer.toUnsignedString(version)
                    + "); RetroInfer reads little-endian GGUF: use the little-endian build of this model");
        }
        if (version == 1) {
            throw new ModelFileException(path, "is a GGUF v1 file, a format llama.cpp itself dropped in 2023;"
                    + " convert the model again with a current llama.cpp");
        }
        if (version < 1 || version > 3) {
            throw new ModelFileException(path, "has GGUF version " + Integer.toUnsignedString(version)
                    + "; RetroInfer reads versions 2 and 3");
        }
        return version;
    }

    private static GgufType type(GgufCursor in, Path path, String what) {
        long code = in.u32("the value type of " + what);
        GgufType type = code > 12 ? null : GgufType.ofCode((int) code);
        if (type == null) {
            throw corrupt(path, what + " has value type " + code + ", which is not a GGUF type (0 to 12)");
        }
        return type;
    }

    private static GgufValue readValue(GgufCursor in, Path path, String key, GgufType type, int depth) {
        if (type != GgufType.ARRAY) {
            return new GgufValue(type, null, readScalar(in, path, key, type));
        }
        if (depth >= MAX_ARRAY_NESTING) {
            throw corrupt(path, "metadata key " + key + " nests arrays more than " + MAX_ARRAY_NESTING + " deep");
        }
        GgufType element = type(in, path, "the elements of metadata key " + key);
        long count = in.i64("the length of metadata array " + key);
        // Arrays inside arrays store their element type (4 bytes) and count (8) each.
        in.checkCount(count, element == GgufType.ARRAY ? 12 : element == GgufType.STRING ? 8 : scalarBytes(element),
                "elements in metadata array " + key);
        if (count > Integer.MAX_VALUE - 8) {
            throw new ModelFileException(path, "metadata array " + key + " has " + count
                    + " elements, more than a Java list can hold");
        }
        List<Object> list = new ArrayList<>((int) count);
        for (long i = 0; i < count; i++) {
            if (element == GgufType.ARRAY) {
                String inner = key + "[" + i + "]";
                list.add(readValue(in, path, inner, GgufType.ARRAY, depth + 1).value());
            } else {
                list.add(readScalar(in, path, key, element));
            }
        }
        return new GgufValue(GgufType.ARRAY, element, Collections.unmodifiableList(list));
    }

    private static Object readScalar(GgufCursor in, Path path, String key, GgufType type) {
        String what = "the value of metadata key " + key;
        return switch (type) {
            case UINT8 -> (long) (in.i8(what) & 0xFF);
            case INT8 -> (long) in.i8(what);
            case UINT16 -> (long) (in.i16(what) & 0xFFFF);
            case INT16 -> (long) in.i16(what);
            case UINT32 -> in.u32(what);
            case INT32 -> (long) in.i32(what);
            case UINT64 -> {
                long v = in.i64(what);
                if (v < 0) {
                    throw new ModelFileException(path, "metadata key " + key + " holds the UINT64 "
                            + Long.toUnsignedString(v) + ", beyond the 2^63 - 1 RetroInfer can represent");
                }
                yield v;
            }
            case INT64 -> in.i64(what);
            case FLOAT32 -> (double) Float.intBitsToFloat(in.i32(what));
            case FLOAT64 -> Double.longBitsToDouble(in.i64(what));
            case BOOL -> in.i8(what) != 0;
            case STRING -> in.string(what);
            case ARRAY -> throw new IllegalStateException("arrays are read by readValue");
        };
    }

    private static long scalarBytes(GgufType type) {
        return switch (type) {
            case UINT8, INT8, BOOL -> 1;
            case UINT16, INT16 -> 2;
            case UINT32, INT32, FLOAT32 -> 4;
            case UINT64, INT64, FLOAT64, STRING -> 8;
            case ARRAY -> 12;
        };
    }

    private static long alignment(Path path, GgufValue value) {
        if (value == null) {
            return DEFAULT_ALIGNMENT;
        }
        if (value.type() != GgufType.UINT32) {
            throw corrupt(path, ALIGNMENT_KEY + " must be a UINT32 but is a " + value.type());
        }
        long a = value.asLong();
        if (a == 0 || (a & (a - 1)) != 0) {
            throw corrupt(path, ALIGNMENT_KEY + " is " + a + ", not a power of two");
        }
        return a;
    }

    private static Info readInfo(GgufCursor in, Path path, long index) {
        String name = in.string("the name of tensor " + index);
        long nDims = in.u32("the dimension count of tensor " + name);
        if (nDims > MAX_DIMS) {
            throw corrupt(path, "tensor " + name + " has " + nDims + " dimensions; GGUF allows at most " + MAX_DIMS);
        }
        long[] ne = new long[(int) nDims];
        for (int d = 0; d < nDims; d++) {
            ne[d] = in.i64("dimension " + d + " of tensor " + name);
            if (ne[d] < 0) {
                throw corrupt(path, "tensor " + name + " has dimension " + d + " of " + Long.toUnsignedString(ne[d]) + " values");
            }
        }
        long code = in.u32("the type of tensor " + name);
        long offset = in.i64("the data offset of tensor " + name);
        DType type = GgmlType.dtype(code);
        if (type == null) {
            throw new ModelFileException(path, "tensor " + name + " is stored as " + GgmlType.describe(code)
                    + ", which RetroInfer cannot read; supported types are " + GgmlType.SUPPORTED
                    + ": use a Q8_0, Q4_0, F16 or BF16 GGUF of this model, or re-quantise it with"
                    + " llama-quantize --allow-requantize to Q8_0 or Q4_0");
        }
        long rowLength = ne.length == 0 ? 1 : ne[0];
        if (rowLength % type.blockElements() != 0) {
            throw corrupt(path, "tensor " + name + " is " + type + " with rows of " + rowLength
                    + " values, not a whole number of " + type.blockElements() + "-value blocks");
        }
        long bytes;
        try {
            long elements = 1;
            for (long d : ne) {
                elements = Math.multiplyExact(elements, d);
            }
            bytes = Math.multiplyExact(elements / type.blockElements(), (long) type.blockBytes());
        } catch (ArithmeticException e) {
            throw corrupt(path, "tensor " + name + " has dimensions " + Arrays.toString(ne) + ", too large to address");
        }
        if (offset < 0) {
            throw corrupt(path, "tensor " + name + " has data offset " + Long.toUnsignedString(offset) + ", beyond any file");
        }
        return new Info(name, type, ne, offset, bytes);
    }

    private static TreeMap<String, Tensor> placeTensors(MappedFile mapped, List<Info> infos, long dataOffset, long alignment) {
        Path path = mapped.path();
        long size = mapped.size();
        Info last = null;
        long lastEnd = dataOffset;
        for (Info info : infos) {
            if (info.offset % alignment != 0) {
                throw corrupt(path, "tensor " + info.name + " has data offset " + info.offset
                        + ", not a multiple of the alignment " + alignment);
            }
            long end;
            try {
                end = Math.addExact(Math.addExact(dataOffset, info.offset), info.bytes);
            } catch (ArithmeticException e) {
                end = Long.MAX_VALUE;
            }
            if (end > lastEnd) {
                lastEnd = end;
                last = info;
            }
        }
        if (lastEnd > size) {
            if (lastEnd == Long.MAX_VALUE) {
                throw corrupt(path, "tensor " + last.name + " has data offset " + last.offset + " and " + last.bytes
                        + " bytes, beyond any file");
            }
            throw new ModelFileException(path, "is truncated: tensor " + last.name + "'s data ends at byte " + lastEnd
                    + " but the file has " + size + " bytes (" + (lastEnd - size) + " bytes missing); fetch the file again");
        }
        List<Info> byOffset = new ArrayList<>(infos);
        byOffset.sort(Comparator.comparingLong(Info::offset));
        for (int i = 1; i < byOffset.size(); i++) {
            Info before = byOffset.get(i - 1);
            Info after = byOffset.get(i);
            if (after.offset < before.offset + before.bytes) {
                throw corrupt(path, "the data of tensors " + before.name + " and " + after.name + " overlap");
            }
        }
        MemorySegment all = mapped.segment();
        TreeMap<String, Tensor> tensors = new TreeMap<>();
        for (Info info : infos) {
            long[] shape = new long[info.ne.length];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = info.ne[shape.length - 1 - d];
            }
            tensors.put(info.name, new Tensor(path, info.name, info.type, shape,
                    all.asSlice(dataOffset + info.offset, info.bytes)));
        }
        return tensors;
    }

    static long alignUp(long position, long alignment) {
        return (position + alignment - 1) / alignment * alignment;
    }

    private static String printable(int magic) {
        StringBuilder s = new StringBuilder("'");
        for (int i = 0; i < 4; i++) {
            int c = (magic >>> (8 * i)) & 0xFF;
            s.append(c >= 0x20 && c < 0x7F ? String.valueOf((char) c) : String.format("\\x%02x", c));
        }
        return s.append("'").toString();
    }

    private static ModelFileException corrupt(Path path, String problem) {
        return new ModelFileException(path, "is corrupt: " + problem + "; fetch the file again");
    }

    /** The GGUF version, 2 or 3. */
    public int version() {
        return version;
    }

    /** All metadata key/value pairs, with typed getters. */
    public GgufMetadata metadata() {
        return metadata;
    }

    /** The data alignment in bytes ({@code general.alignment}, 32 by default). */
    public long alignment() {
        return alignment;
    }

    /** The file offset where the tensor data section starts. */
    public long dataOffset() {
        return dataOffset;
    }

    @Override
    public Path path() {
        return file.path();
    }

    @Override
    public SortedSet<String> tensorNames() {
        return Collections.unmodifiableSortedSet(tensors.navigableKeySet());
    }

    @Override
    public Optional<Tensor> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    @Override
    public void close() {
        file.close();
    }
}
