package org.retroinfer.model.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Hugging Face checkpoint directory: either {@code model.safetensors.index.json}, whose
 * {@code weight_map} names the shard file of every tensor, or a single {@code model.safetensors}.
 * Each shard is mapped once; the index is the authority on which tensors exist, as in transformers.
 */
public final class SafetensorsCheckpoint implements WeightFile {
    public static final String INDEX_FILE = "model.safetensors.index.json";
    public static final String SINGLE_FILE = "model.safetensors";

    private static final Logger LOG = LoggerFactory.getLogger(SafetensorsCheckpoint.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path directory;
    private final List<SafetensorsFile> shards;
    private final TreeMap<String, Tensor> tensors;

    private SafetensorsCheckpoint(Path directory, List<SafetensorsFile> shards, TreeMap<String, Tensor> tensors) {
        this.directory = directory;
        this.shards = shards;
        this.tensors = tensors;
    }

    /** Opens the checkpoint in {@code directory}; any problem is a {@link ModelFileException} naming the file at fault. */
    public static SafetensorsCheckpoint open(Path directory) {
        if (!Files.isDirectory(directory)) {
            throw new ModelFileException(directory, Files.exists(directory)
                    ? "is not a directory; a safetensors checkpoint is a directory holding " + SINGLE_FILE + " or " + INDEX_FILE
                    : "does not exist; check the model path");
        }
        Path index = directory.resolve(INDEX_FILE);
        if (Files.exists(index)) {
            return openSharded(directory, index);
        }
        Path single = directory.resolve(SINGLE_FILE);
        if (Files.exists(single)) {
            SafetensorsFile file = SafetensorsFile.open(single);
            TreeMap<String, Tensor> tensors = new TreeMap<>();
            for (String name : file.tensorNames()) {
                tensors.put(name, file.require(name));
            }
            return new SafetensorsCheckpoint(directory, List.of(file), tensors);
        }
        throw new ModelFileException(directory, "holds neither " + SINGLE_FILE + " nor " + INDEX_FILE
                + WeightFiles.describeDirectory(directory));
    }

    private static SafetensorsCheckpoint openSharded(Path directory, Path index) {
        Map<String, List<String>> tensorsByShard = readWeightMap(index);
        List<String> missing = new ArrayList<>();
        for (String shard : tensorsByShard.keySet()) {
            if (!Files.exists(directory.resolve(shard))) {
                missing.add(shard);
            }
        }
        if (!missing.isEmpty()) {
            String first = missing.getFirst();
            List<String> held = tensorsByShard.get(first);
            throw new ModelFileException(directory.resolve(first), "is missing: " + INDEX_FILE + " lists it as the shard"
                    + " holding " + held.size() + " tensors (such as " + held.getFirst() + ")"
                    + (missing.size() > 1 ? ", and " + (missing.size() - 1) + " more shards are missing too "
                            + missing.subList(1, missing.size()) : "")
                    + "; fetch the missing shards");
        }
        List<SafetensorsFile> shards = new ArrayList<>();
        try {
            TreeMap<String, Tensor> tensors = new TreeMap<>();
            for (Map.Entry<String, List<String>> entry : tensorsByShard.entrySet()) {
                SafetensorsFile shard = SafetensorsFile.open(directory.resolve(entry.getKey()));
                shards.add(shard);
                for (String name : entry.getValue()) {
                    Tensor tensor = shard.find(name).orElseThrow(() -> new ModelFileException(shard.path(),
                            "lacks tensor " + name + ", which " + INDEX_FILE + " says it holds; the shard and the index"
                                    + " come from different downloads or revisions: fetch the checkpoint again"));
                    tensors.put(name, tensor);
                }
                int unlisted = shard.tensorNames().size() - entry.getValue().size();
                if (unlisted > 0) {
                    LOG.warn("{}: {} tensors are not listed in {} and are ignored, as transformers ignores them",
                            shard.path(), unlisted, INDEX_FILE);
                }
            }
            return new SafetensorsCheckpoint(directory, List.copyOf(shards), tensors);
        } catch (RuntimeException e) {
            shards.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** Shard file name → the tensors the index places there, in index order. */
    private static Map<String, List<String>> readWeightMap(Path index) {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (JsonProcessingException e) {
            throw new ModelFileException(index, "is not valid JSON (" + e.getOriginalMessage().replaceAll("\\s*\\R\\s*", " ")
                    + "); fetch it again", e);
        } catch (IOException e) {
            throw new ModelFileException(index, "cannot be read: " + e.getMessage(), e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject() || weightMap.isEmpty()) {
            throw new ModelFileException(index, "has no weight_map object naming the shard of each tensor; fetch it again");
        }
        Map<String, List<String>> byShard = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : weightMap.properties()) {
            JsonNode shard = entry.getValue();
            if (!shard.isTextual() || !isPlainFileName(shard.textValue())) {
                throw new ModelFileException(index, "maps tensor " + entry.getKey() + " to " + shard
                        + ", which is not the file name of a shard in this directory; fetch the index again");
            }
            byShard.computeIfAbsent(shard.textValue(), s -> new ArrayList<>()).add(entry.getKey());
        }
        return byShard;
    }

    private static boolean isPlainFileName(String name) {
        return !name.isEmpty() && !name.equals(".") && !name.equals("..") && name.indexOf('/') < 0 && name.indexOf('\\') < 0;
    }

    /** The shard files, each mapped once. */
    public List<Path> shardPaths() {
        return shards.stream().map(SafetensorsFile::path).toList();
    }

    @Override
    public Path path() {
        return directory;
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
        shards.forEach(SafetensorsFile::close);
    }
}
