package org.retroinfer.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.retroinfer.eval.AttentionMode;
import org.retroinfer.kvstore.gpu.GpuRetroKvCache;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.model.generation.Generator;

/** What {@link Engine} reads from the command line without opening a device. */
class EngineTest {
    private static Options parse(String... args) {
        return Options.parse("generate", args, Set.of("device", "prefill-chunk", "lookups", "attention"), Set.of());
    }

    /**
     * By default the wave buffer's lookups run on the GPU up to contexts whose retrieval zone has 512 clusters, and past
     * them on the GPU for the GPU tier's layers only (a 128K context's has 147, a 1M context's 1,152); asked for, they run
     * where asked.
     */
    @Test
    void lookupsGoToTheGpuUnlessTheRetrievalZoneIsLong() {
        RetroConfig config = RetroConfig.defaults();
        List<AttentionMode> retro = List.of(new AttentionMode.Retro(config));
        Engine.Tiers auto = Engine.tiers(parse("--device", "gpu"), retro);
        assertEquals(GpuRetroKvCache.Lookups.DEVICE, auto.lookups(config, 131072));
        assertEquals(GpuRetroKvCache.Lookups.DEVICE_STORES, auto.lookups(config, 1024000));
        Engine.Tiers host = Engine.tiers(parse("--device", "gpu", "--lookups", "host"), retro);
        assertEquals(GpuRetroKvCache.Lookups.HOST, host.lookups(config, 131072));
        Engine.Tiers gpu = Engine.tiers(parse("--device", "gpu", "--lookups", "gpu"), retro);
        assertEquals(GpuRetroKvCache.Lookups.DEVICE, gpu.lookups(config, 1024000));
        Engine.Tiers stores = Engine.tiers(parse("--device", "gpu", "--lookups", "gpu-stores"), retro);
        assertEquals(GpuRetroKvCache.Lookups.DEVICE_STORES, stores.lookups(config, 131072));
    }

    @Test
    void promptChunksAreLargerOnTheGpuUnlessAsked() {
        assertEquals(Generator.DEFAULT_PREFILL_CHUNK, Engine.prefillChunk(parse()));
        assertEquals(Generator.DEFAULT_PREFILL_CHUNK, Engine.prefillChunk(parse("--device", "cpu")));
        assertEquals(Engine.GPU_PREFILL_CHUNK, Engine.prefillChunk(parse("--device", "gpu")));
        assertEquals(300, Engine.prefillChunk(parse("--device", "gpu", "--prefill-chunk", "300")));
    }
}
