package org.retroinfer.kvstore.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.retroinfer.kernels.DType;
import org.retroinfer.kernels.gpu.Int8Centroids;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.wave.StoreFormat;

/** The placement's arithmetic at Llama 3 8B's shape and 128K positions: which batch and GPU-tier layers fit. */
class GpuRetroPlacementTest {
    @Test
    void placementPutsAsManyLayersOnTheGpuAsFitAndTheRestOnTheHost() {
        AttentionShape shape = new AttentionShape(32, 32, 8, 128);
        RetroConfig config = RetroConfig.defaults().withStorage(DType.BF16);
        long capacity = 131072;
        long store = GpuRetroPlacement.storeBytesPerLayer(shape, capacity); // 512 MiB
        long meta = GpuRetroPlacement.deviceBytesPerSequence(shape, config, capacity);
        long prefill = GpuKvCache.bytesPerSequence(shape, DType.BF16, capacity);
        assertEquals(512L << 20, store);
        // room on the GPU for 4 sequences' meta and 10 layers of their stores; the host holds the other 22 layers
        long gpu = prefill + 4 * meta + 4 * 10 * store + (store / 2);
        assertEquals(new GpuRetroPlacement.Placement(4, 10), GpuRetroPlacement.place(shape, config, capacity, 1, 4, true, gpu,
                4 * 22 * store));
        // a host too small for that: fewer sequences, more of each on the GPU
        GpuRetroPlacement.Placement fewer = GpuRetroPlacement.place(shape, config, capacity, 1, 4, false, gpu, 4 * 22 * store - 1);
        assertTrue(fewer.sequences() < 4 && fewer.deviceStoreLayers() > 10, fewer.toString());
        assertEquals(null, GpuRetroPlacement.place(shape, config, capacity, 1, 4, true, gpu, 4 * 22 * store - 1));
        // an INT8 host tier takes 132 of 256 bytes a vector: the same host holds the same placement in about half
        long int8Store = GpuRetroPlacement.storeBytesPerLayer(shape, capacity, StoreFormat.INT8);
        assertEquals(2L * 8 * capacity * 132, int8Store);
        assertEquals(new GpuRetroPlacement.Placement(4, 10), GpuRetroPlacement.place(shape, config, capacity, 1, 4, true, gpu,
                4 * 22 * int8Store, StoreFormat.INT8, 32));
        assertEquals(null, GpuRetroPlacement.place(shape, config, capacity, 1, 4, true, gpu, 4 * 22 * int8Store));
        // an INT4 host tier takes 72 bytes a vector (64 of levels, four BF16 scales)
        long int4Store = GpuRetroPlacement.storeBytesPerLayer(shape, capacity, StoreFormat.INT4);
        assertEquals(2L * 8 * capacity * 72, int4Store);
        assertEquals(new GpuRetroPlacement.Placement(4, 10), GpuRetroPlacement.place(shape, config, capacity, 1, 4, true, gpu,
                4 * 22 * int4Store, StoreFormat.INT4, 32));
        assertEquals(null, GpuRetroPlacement.place(shape, config, capacity, 1, 4, true, gpu, 4 * 22 * int4Store, StoreFormat.INT8,
                32));
        // a cap on the GPU tier puts the other layers on the host, and none with a cap of 0
        assertEquals(new GpuRetroPlacement.Placement(4, 3), GpuRetroPlacement.place(shape, config, capacity, 1, 4, true, gpu,
                4 * 29 * int8Store, StoreFormat.INT8, 3));
        assertEquals(new GpuRetroPlacement.Placement(4, 0), GpuRetroPlacement.place(shape, config, capacity, 1, 4, true, gpu,
                4 * 32 * int8Store, StoreFormat.INT8, 0));
        // an INT4 GPU tier holds 256 / 80 times the layers of a 16-bit one: all 32 here, leaving the host nothing to hold
        assertEquals(new GpuRetroPlacement.Placement(4, 32), GpuRetroPlacement.place(shape, config, capacity, 1, 4, true, gpu, 0,
                new TierFormats(StoreFormat.INT4, StoreFormat.INT4), 32, GpuRetroKvCache.Lookups.HOST));
        // an INT8 one about twice: 132 of 256 bytes a vector, less the block cache a layer on the GPU does without (5% of
        // the 16-bit KV), so 40.5 / 4 / (0.516 - 0.05) = 21 layers
        assertEquals(new GpuRetroPlacement.Placement(4, 21), GpuRetroPlacement.place(shape, config, capacity, 1, 4, true, gpu,
                4 * 11 * store, new TierFormats(StoreFormat.INT8, StoreFormat.HALF), 32, GpuRetroKvCache.Lookups.HOST));
        assertEquals(null, GpuRetroPlacement.place(shape, config, capacity, 1, 4, true, gpu, 4 * 11 * store - 1,
                new TierFormats(StoreFormat.INT8, StoreFormat.HALF), 32, GpuRetroKvCache.Lookups.HOST));
        // INT8 value sums take 132 of 256 bytes a cluster's value sum, in every layer and group
        long clusters = GpuRetroPlacement.Sizes.of(config, capacity).clusterCapacity();
        assertEquals(clusters * (256 - 132) * 8 * 32, meta - GpuRetroPlacement.deviceBytesPerSequence(shape, config, capacity,
                new TierFormats(StoreFormat.HALF, StoreFormat.HALF, StoreFormat.INT8)));
        // and so do INT8 centroids, in a row of clusters that is a multiple of their blocks of four
        assertEquals(2 * clusters * (256 - 132) * 8 * 32, meta - GpuRetroPlacement.deviceBytesPerSequence(shape, config, capacity,
                new TierFormats(StoreFormat.HALF, StoreFormat.HALF, StoreFormat.INT8, StoreFormat.INT8)));
        assertEquals(0, clusters % Int8Centroids.BLOCK);
        // without a dense prefill slot the freed GPU memory holds more layers' stores
        assertTrue(GpuRetroPlacement.place(shape, config, capacity, 0, 4, true, gpu, 4 * 22 * store).deviceStoreLayers() > 10);
    }
}
