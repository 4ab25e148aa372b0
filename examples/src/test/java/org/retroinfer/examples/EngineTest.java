package org.retroinfer.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.retroinfer.model.generation.Generator;

/** What {@link Engine} reads from the command line without opening a device. */
class EngineTest {
    private static Options parse(String... args) {
        return Options.parse("generate", args, Set.of("device", "prefill-chunk"), Set.of());
    }

    @Test
    void promptChunksAreLargerOnTheGpuUnlessAsked() {
        assertEquals(Generator.DEFAULT_PREFILL_CHUNK, Engine.prefillChunk(parse()));
        assertEquals(Generator.DEFAULT_PREFILL_CHUNK, Engine.prefillChunk(parse("--device", "cpu")));
        assertEquals(Engine.GPU_PREFILL_CHUNK, Engine.prefillChunk(parse("--device", "gpu")));
        assertEquals(300, Engine.prefillChunk(parse("--device", "gpu", "--prefill-chunk", "300")));
    }
}
