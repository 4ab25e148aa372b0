package org.retroinfer.kvstore.gpu;

import java.util.EnumMap;
import java.util.Map;
import org.retroinfer.accel.device.Device;

/**
 * Where a decode layer's time goes, summed over the layers and steps profiled: device time from mark to mark (the
 * lookup wait is the GPU's idle time between the estimation and the work the host enqueues after its lookup; the
 * admission's phase includes the wait for the previous layer's LRU update and the copy of the outputs back into row
 * order), and the host's own time for the lookups, the LRU updates (on other threads, overlapping the next layer) and
 * the wait for them. With the lookups on the device the host phases and the lookup wait are 0, the gather's phase
 * holds the lookup kernel and the admission's the update kernel. Profiled layers run the estimation and the update
 * in line, not beside the gather, for each phase to be timed alone.
 */
public final class RetroLayerProfile {
    /** The phases, in order. */
    public enum Phase { SCORING, SELECTION, ESTIMATION, LOOKUP_WAIT, ADMISSION, GATHER, ATTENTION, HOST_LOOKUP, HOST_LRU, HOST_LRU_WAIT }

    private final double[] millis = new double[Phase.values().length];
    private long layers;

    void device(Phase phase, Device.Mark from, Device.Mark to) {
        millis[phase.ordinal()] += to.millisSince(from);
    }

    void host(Phase phase, long nanos) {
        millis[phase.ordinal()] += nanos / 1e6;
    }

    /** Counts one more layer profiled: the times are averaged over these. */
    void layerDone() {
        layers++;
    }

    /** Milliseconds per profiled layer, by phase. */
    public Map<Phase, Double> millisPerLayer() {
        Map<Phase, Double> out = new EnumMap<>(Phase.class);
        for (Phase p : Phase.values()) out.put(p, layers == 0 ? 0 : millis[p.ordinal()] / layers);
        return out;
    }
}
