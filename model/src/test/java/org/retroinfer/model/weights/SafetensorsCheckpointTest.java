package org.retroinfer.model.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.kernels.DType;

class SafetensorsCheckpointTest {
    @TempDir
    Path dir;

    /** A three-shard checkpoint of tensors t0..t2, one per shard, each [4] F32 holding its index. */
    private Path threeShards() {
        Path checkpoint = dir.resolve("ckpt");
        SafetensorsWriter writer = new SafetensorsWriter();
        for (int t = 0; t < 3; t++) {
            writer.add("t" + t, DType.F32, new long[] {4}, new float[] {t, t, t, t});
        }
        writer.writeSharded(checkpoint, 16);
        return checkpoint;
    }

    private static ModelFileException rejected(Path path) {
        ModelFileException e = assertThrows(ModelFileException.class, () -> SafetensorsCheckpoint.open(path).close());
        assertEquals(1, e.getMessage().lines().count(), "one line: " + e.getMessage());
        System.out.println(e.getMessage());
        return e;
    }

    @Test
    void eachShardIsMappedOnceAndEveryIndexedTensorIsFound() {
        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(threeShards())) {
            assertEquals(3, checkpoint.shardPaths().size());
            for (int t = 0; t < 3; t++) {
                assertArrayEquals(new float[] {t, t, t, t}, checkpoint.require("t" + t).toFloats());
            }
        }
    }

    @Test
    void missingShardIsNamedWithTheIndexThatListsIt() throws IOException {
        Path checkpoint = threeShards();
        Path shard = checkpoint.resolve("model-00002-of-00003.safetensors");
        Files.delete(shard);
        ModelFileException e = rejected(checkpoint);
        assertEquals(shard, e.file());
        assertTrue(e.getMessage().contains("is missing: model.safetensors.index.json lists it"), e.getMessage());
        assertTrue(e.getMessage().contains("t1"), e.getMessage());
    }

    @Test
    void tensorTheIndexListsButItsShardLacksIsNamed() throws IOException {
        Path checkpoint = threeShards();
        Path index = checkpoint.resolve("model.safetensors.index.json");
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(index.toFile());
        ((ObjectNode) root.get("weight_map")).put("lm_head.weight", "model-00003-of-00003.safetensors");
        json.writeValue(index.toFile(), root);
        ModelFileException e = rejected(checkpoint);
        assertEquals(checkpoint.resolve("model-00003-of-00003.safetensors"), e.file());
        assertTrue(e.getMessage().contains("lacks tensor lm_head.weight"), e.getMessage());
    }

    @Test
    void indexWithoutWeightMapOrWithAPathInsteadOfAShardNameIsRejected() throws IOException {
        Path checkpoint = threeShards();
        Path index = checkpoint.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"metadata\": {}}");
        assertTrue(rejected(checkpoint).getMessage().contains("no weight_map"));
        Files.writeString(index, "{\"weight_map\": {\"t0\": \"../model-00001-of-00003.safetensors\"}}");
        assertTrue(rejected(checkpoint).getMessage().contains("not the file name of a shard"));
        Files.writeString(index, "{\"weight_map\": ");
        assertTrue(rejected(checkpoint).getMessage().contains("not valid JSON"));
    }

    @Test
    void directoryWithoutACheckpointSaysWhatItHolds() throws IOException {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        String message = rejected(empty).getMessage();
        assertTrue(message.contains("holds neither model.safetensors nor model.safetensors.index.json"), message);
        assertTrue(message.contains("safetensors") && message.contains("GGUF"), message);

        Path pytorch = Files.createDirectory(dir.resolve("pytorch"));
        Files.write(pytorch.resolve("pytorch_model.bin"), new byte[] {0x50, 0x4B, 3, 4});
        assertTrue(rejected(pytorch).getMessage().contains("PyTorch pickle weights [pytorch_model.bin]"));

        Path gguf = Files.createDirectory(dir.resolve("gguf"));
        Files.write(gguf.resolve("model-Q8_0.gguf"), new byte[4]);
        assertTrue(rejected(gguf).getMessage().contains("GGUF files [model-Q8_0.gguf]: pass one of those files"));
    }

    @Test
    void shardsMappedBeforeAFailureAreUnmapped() throws IOException {
        Path maps = Path.of("/proc/self/maps");
        Assumptions.assumeTrue(Files.isReadable(maps), "needs Linux's /proc/self/maps to see the mappings");
        Path checkpoint = threeShards();
        Path third = checkpoint.resolve("model-00003-of-00003.safetensors");
        byte[] bytes = Files.readAllBytes(third);
        Files.write(third, Arrays.copyOf(bytes, bytes.length - 2));
        ModelFileException e = rejected(checkpoint);
        assertEquals(third, e.file());
        assertTrue(e.getMessage().contains("2 bytes missing"), e.getMessage());
        String mapped = Files.readString(maps);
        assertFalse(mapped.contains(checkpoint.toString()), "a shard is still mapped:\n" + mapped);
    }
}
