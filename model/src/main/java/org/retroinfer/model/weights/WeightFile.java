package org.retroinfer.model.weights;

import java.nio.file.Path;
import java.util.Optional;
import java.util.SortedSet;

/**
 * Named tensors backed by memory-mapped files (one safetensors file, a sharded safetensors
 * checkpoint, or a GGUF file). Tensors stay valid until {@link #close()}, which unmaps them.
 */
public interface WeightFile extends AutoCloseable {
    /** The file or directory the tensors come from, for messages. */
    Path path();

    SortedSet<String> tensorNames();

    Optional<Tensor> find(String name);

    /** The tensor, or a {@link ModelFileException} naming the file and the missing tensor. */
    default Tensor require(String name) {
        return find(name).orElseThrow(() -> new ModelFileException(path(), "tensor " + name + " is missing"));
    }

    @Override
    void close();
}
