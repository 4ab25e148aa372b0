package org.retroinfer.model.weights;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import org.retroinfer.kernels.DType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Hugging Face {@code .safetensors} file, memory-mapped. The format: a little-endian u64 header
 * length N, N bytes of JSON ({@code {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...}}
 * plus an optional {@code "__metadata__"} map of strings), then the tensor bytes, with offsets
 * relative to the end of the header. Everything is checked at open as strictly as the Hugging Face
 * library checks it (offsets contiguous from 0 to the end of the file), so a bad file fails here, with
 * its path, rather than later as a wrong number.
 */
public final class SafetensorsFile implements WeightFile {
    /** The largest header the Hugging Face library accepts (its MAX_HEADER_SIZE). */
    static final long MAX_HEADER_BYTES = 100_000_000;

    private static final Logger LOG = LoggerFactory.getLogger(SafetensorsFile.class);
    private static final ValueLayout.OfLong LE_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final MappedFile file;
    private final Map<String, String> metadata;
    private final TreeMap<String, Tensor> tensors;

    private record Entry(String name, DType type, long[] shape, long begin, long end) {}

    private SafetensorsFile(MappedFile file, Map<String, String> metadata, TreeMap<String, Tensor> tensors) {
        this.file = file;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    /** Maps and checks {@code path}; any problem is a {@link ModelFileException} naming it. */
    public static SafetensorsFile open(Path path) {
        MappedFile mapped = MappedFile.open(path, "safetensors");
        try {
            SafetensorsFile result = read(mapped);
            LOG.debug("{}: {} tensors", path, result.tensors.size());
            return result;
        } catch (RuntimeException e) {
            mapped.close();
            throw e;
        }
    }

    private static SafetensorsFile read(MappedFile mapped) {
        Path path = mapped.path();
        MemorySegment all = mapped.segment();
        long size = mapped.size();
        if (size < 8) {
            throw new ModelFileException(path, "is truncated: it has " + size + " bytes, fewer than the 8-byte"
                    + " header length that starts every safetensors file; fetch the file again");
        }
        long headerLength = all.get(LE_LONG, 0);
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new ModelFileException(path, "is not a safetensors file: its first 8 bytes give a header length of "
                    + Long.toUnsignedString(headerLength) + " bytes, more than the " + MAX_HEADER_BYTES
                    + " the format allows" + WeightFiles.formatHint(all));
        }
        long dataStart = 8 + headerLength;
        if (dataStart > size) {
            throw new ModelFileException(path, "is truncated inside its header: the header needs " + dataStart
                    + " bytes but the file has " + size + " (" + (dataStart - size) + " bytes missing); fetch the file again");
        }
        JsonNode root = parseHeader(path, all.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE));
        Map<String, String> metadata = Map.of();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (field.getKey().equals("__metadata__")) {
                metadata = readMetadata(path, field.getValue());
            } else {
                entries.add(readEntry(path, field.getKey(), field.getValue()));
            }
        }
        long dataEnd = checkContiguous(path, entries);
        // Compared as a difference: offsets come from the file and may be near 2^63.
        if (dataEnd > size - dataStart) {
            long missing = dataEnd - (size - dataStart);
            throw new ModelFileException(path, "is truncated: its header says the tensor data ends at byte "
                    + Long.toUnsignedString(dataStart + dataEnd) + " but the file has " + size + " bytes (" + missing
                    + " bytes missing); fetch the file again");
        }
        if (dataEnd < size - dataStart) {
            throw new ModelFileException(path, "has " + (size - dataStart - dataEnd) + " bytes after the end of its last"
                    + " tensor's data; the file is corrupt (the Hugging Face safetensors library refuses it too): fetch it again");
        }
        TreeMap<String, Tensor> tensors = new TreeMap<>();
        for (Entry e : entries) {
            tensors.put(e.name, new Tensor(path, e.name, e.type, e.shape, all.asSlice(dataStart + e.begin, e.end - e.begin)));
        }
        return new SafetensorsFile(mapped, metadata, tensors);
    }

    private static JsonNode parseHeader(Path path, byte[] header) {
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JsonProcessingException e) {
            String at = e.getLocation() == null || e.getLocation().getByteOffset() < 0
                    ? "" : " at byte " + (8 + e.getLocation().getByteOffset());
            throw new ModelFileException(path, "is corrupt: its header is not valid JSON (" + oneLine(e.getOriginalMessage())
                    + at + "); fetch the file again", e);
        } catch (java.io.IOException e) {
            throw new ModelFileException(path, "is corrupt: its header cannot be read as JSON (" + oneLine(e.getMessage())
                    + "); fetch the file again", e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFileException(path, "is corrupt: its header must be a JSON object of tensors but is "
                    + (root == null || root.isMissingNode() ? "empty" : "a JSON " + root.getNodeType()) + "; fetch the file again");
        }
        return root;
    }

    private static Map<String, String> readMetadata(Path path, JsonNode node) {
        if (!node.isObject()) {
            throw corrupt(path, "__metadata__ must be a JSON object of strings but is a " + node.getNodeType());
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            if (!field.getValue().isTextual()) {
                throw corrupt(path, "__metadata__ must map strings to strings, but " + field.getKey() + " holds "
                        + field.getValue());
            }
            metadata.put(field.getKey(), field.getValue().textValue());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static Entry readEntry(Path path, String name, JsonNode node) {
        if (!node.isObject()) {
            throw corrupt(path, "tensor " + name + " must be described by a JSON object but is " + node);
        }
        JsonNode dtype = node.get("dtype");
        if (dtype == null || !dtype.isTextual()) {
            throw corrupt(path, "tensor " + name + " has no dtype string");
        }
        DType type = switch (dtype.textValue()) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            default -> throw new ModelFileException(path, "tensor " + name + " has dtype " + dtype.textValue()
                    + ", which RetroInfer cannot read; supported dtypes are F32, F16 and BF16: save the checkpoint"
                    + " with torch_dtype float32, float16 or bfloat16");
        };
        long[] shape = longs(path, name, "shape", node.get("shape"));
        long[] offsets = longs(path, name, "data_offsets", node.get("data_offsets"));
        if (offsets.length != 2 || offsets[0] > offsets[1]) {
            throw corrupt(path, "tensor " + name + " has data_offsets " + Arrays.toString(offsets)
                    + ", which is not a [begin, end] pair with begin <= end");
        }
        long bytes;
        try {
            long elements = 1;
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            bytes = Math.multiplyExact(elements, type == DType.F32 ? 4L : 2L);
        } catch (ArithmeticException e) {
            throw corrupt(path, "tensor " + name + " has shape " + Arrays.toString(shape) + ", too large to address");
        }
        if (offsets[1] - offsets[0] != bytes) {
            throw corrupt(path, "tensor " + name + " of dtype " + type + " and shape " + Arrays.toString(shape) + " needs "
                    + bytes + " bytes, but its data_offsets " + Arrays.toString(offsets) + " span "
                    + (offsets[1] - offsets[0]));
        }
        return new Entry(name, type, shape, offsets[0], offsets[1]);
    }

    private static long[] longs(Path path, String tensor, String field, JsonNode node) {
        if (node == null || !node.isArray()) {
            throw corrupt(path, "tensor " + tensor + " has no " + field + " array");
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw corrupt(path, "tensor " + tensor + " has " + field + " " + node
                        + "; every entry must be a non-negative integer");
            }
            values[i] = v.longValue();
        }
        return values;
    }

    /** The end of the data section, after checking that the tensors tile it from 0 without gaps or overlaps. */
    private static long checkContiguous(Path path, List<Entry> entries) {
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        String previous = null;
        for (Entry e : byOffset) {
            if (e.begin != expected) {
                throw corrupt(path, "tensor " + e.name + "'s data starts at offset " + e.begin + (previous == null
                        ? " instead of 0, leaving a gap before it"
                        : ", but tensor " + previous + "'s ends at " + expected
                                + (e.begin < expected ? ", so they overlap" : ", leaving a gap between them")));
            }
            expected = e.end;
            previous = e.name;
        }
        return expected;
    }

    private static ModelFileException corrupt(Path path, String problem) {
        return new ModelFileException(path, "is corrupt: " + problem + "; fetch the file again");
    }

    private static String oneLine(String s) {
        return s == null ? "no detail" : s.replaceAll("\\s*\\R\\s*", " ");
    }

    /** The {@code __metadata__} strings of the header (empty where there are none). */
    public Map<String, String> metadata() {
        return metadata;
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
