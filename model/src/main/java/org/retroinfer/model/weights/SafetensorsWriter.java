package org.retroinfer.model.weights;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.retroinfer.kernels.DType;

/**
 * Writes F32, F16 and BF16 tensors as Hugging Face safetensors, byte for byte as the safetensors
 * library's {@code serialize_to_file} does: tensors ordered by descending dtype (F32, BF16, F16, the
 * Rust enum's order) and then by name, a compact JSON header with {@code __metadata__} first, padded
 * with spaces to a multiple of 8 bytes, then the data. The default metadata {@code {"format":"pt"}}
 * is what transformers' save_pretrained writes and what its loader checks for.
 *
 * <p>Values given as floats are rounded to the stored type to nearest even; values are read from the
 * arrays or {@link RowSource}s only when {@link #write} runs, so large models stream to disk.
 */
public final class SafetensorsWriter {
    private final List<TensorPayload> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private Map<String, String> metadata = Map.of("format", "pt");

    /** Replaces the {@code __metadata__} strings; an empty map writes no {@code __metadata__} at all. */
    public SafetensorsWriter metadata(Map<String, String> metadata) {
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        return this;
    }

    /** A tensor from row-major values, rounded to {@code type} (F32, F16 or BF16) when written. */
    public SafetensorsWriter add(String name, DType type, long[] shape, float[] values) {
        return add(TensorPayload.of(name, checkType(name, type), shape, values));
    }

    /** A tensor whose rows (last dimension) come from {@code rows} when written. */
    public SafetensorsWriter add(String name, DType type, long[] shape, RowSource rows) {
        return add(new TensorPayload(name, checkType(name, type), shape, rows, null));
    }

    /** A tensor given as its little-endian bytes in {@code type}, copied as they are. */
    public SafetensorsWriter addRaw(String name, DType type, long[] shape, MemorySegment bytes) {
        return add(new TensorPayload(name, checkType(name, type), shape, null, bytes));
    }

    private SafetensorsWriter add(TensorPayload tensor) {
        if (!names.add(tensor.name())) {
            throw new IllegalArgumentException("tensor " + tensor.name() + " was already added");
        }
        tensors.add(tensor);
        return this;
    }

    private static DType checkType(String name, DType type) {
        if (type.isQuantized()) {
            throw new IllegalArgumentException("tensor " + name + ": safetensors stores F32, F16 and BF16, not " + type);
        }
        return type;
    }

    /** Writes every tensor into one file. */
    public void write(Path file) {
        writeFile(file, tensors);
    }

    /**
     * Writes a sharded checkpoint into {@code directory} as transformers' save_pretrained does:
     * tensors in the order added go into shards of at most {@code maxShardBytes} of data (a larger
     * tensor gets a shard of its own), named {@code model-00001-of-0000N.safetensors}, with
     * {@code model.safetensors.index.json} mapping each tensor to its shard. Where everything fits
     * in one shard, a single {@code model.safetensors} is written and no index.
     *
     * @return the files written, the index last
     */
    public List<Path> writeSharded(Path directory, long maxShardBytes) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        List<List<TensorPayload>> shards = new ArrayList<>();
        long shardBytes = 0;
        for (TensorPayload t : tensors) {
            if (shards.isEmpty() || (shardBytes + t.bytes() > maxShardBytes && !shards.getLast().isEmpty())) {
                shards.add(new ArrayList<>());
                shardBytes = 0;
            }
            shards.getLast().add(t);
            shardBytes += t.bytes();
        }
        createDirectories(directory);
        if (shards.size() <= 1) {
            Path single = directory.resolve(SafetensorsCheckpoint.SINGLE_FILE);
            writeFile(single, tensors);
            return List.of(single);
        }
        List<Path> written = new ArrayList<>();
        Map<String, String> weightMap = new TreeMap<>(JsonText.CODE_POINT_ORDER);
        long totalSize = 0;
        for (int i = 0; i < shards.size(); i++) {
            String shardName = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            Path shard = directory.resolve(shardName);
            writeFile(shard, shards.get(i));
            written.add(shard);
            for (TensorPayload t : shards.get(i)) {
                weightMap.put(t.name(), shardName);
                totalSize += t.bytes();
            }
        }
        Path index = directory.resolve(SafetensorsCheckpoint.INDEX_FILE);
        try (TensorOutput out = new TensorOutput(index)) {
            out.write(indexJson(totalSize, weightMap).getBytes(StandardCharsets.UTF_8));
            out.commit();
        }
        written.add(index);
        return written;
    }

    private void writeFile(Path file, List<TensorPayload> content) {
        List<TensorPayload> ordered = new ArrayList<>(content);
        ordered.sort(Comparator.comparingInt((TensorPayload t) -> -dtypeRank(t.type()))
                .thenComparing(TensorPayload::name, JsonText.CODE_POINT_ORDER));
        byte[] header = header(ordered);
        try (TensorOutput out = new TensorOutput(file)) {
            byte[] length = new byte[8];
            for (int i = 0; i < 8; i++) {
                length[i] = (byte) ((long) header.length >>> (8 * i));
            }
            out.write(length);
            out.write(header);
            for (TensorPayload t : ordered) {
                out.writeTensor(t);
            }
            out.commit();
        }
    }

    /** The position of the dtype in the safetensors crate's Dtype enum, whose order the writer sorts by. */
    private static int dtypeRank(DType type) {
        return switch (type) {
            case F16 -> 0;
            case BF16 -> 1;
            case F32 -> 2;
            default -> throw new IllegalStateException(type + " is not a safetensors dtype");
        };
    }

    private byte[] header(List<TensorPayload> ordered) {
        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            json.append("\"__metadata__\":{").append(metadata.entrySet().stream()
                    .map(e -> JsonText.rust(e.getKey()) + ":" + JsonText.rust(e.getValue()))
                    .collect(Collectors.joining(","))).append('}');
        }
        long offset = 0;
        for (TensorPayload t : ordered) {
            if (json.length() > 1) {
                json.append(',');
            }
            json.append(JsonText.rust(t.name())).append(":{\"dtype\":\"").append(t.type()).append("\",\"shape\":[")
                    .append(Arrays.stream(t.shape()).mapToObj(Long::toString).collect(Collectors.joining(",")))
                    .append("],\"data_offsets\":[").append(offset).append(',').append(offset + t.bytes()).append("]}");
            offset += t.bytes();
        }
        json.append('}');
        byte[] bytes = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (bytes.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(bytes, padded);
        Arrays.fill(header, bytes.length, padded, (byte) ' ');
        return header;
    }

    /** The index as transformers writes it: json.dumps(index, indent=2, sort_keys=True) + "\n". */
    private static String indexJson(long totalSize, Map<String, String> weightMap) {
        return "{\n  \"metadata\": {\n    \"total_size\": " + totalSize + "\n  },\n  \"weight_map\": {\n"
                + weightMap.entrySet().stream()
                        .map(e -> "    " + JsonText.python(e.getKey()) + ": " + JsonText.python(e.getValue()))
                        .collect(Collectors.joining(",\n"))
                + "\n  }\n}\n";
    }

    private static void createDirectories(Path directory) {
        try {
            Files.createDirectories(directory);
        } catch (java.io.IOException e) {
            throw new ModelFileException(directory, "cannot be created: " + e + "; check the path and permissions");
        }
    }
}
