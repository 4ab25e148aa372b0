package org.retroinfer.model.gpu;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.retroinfer.accel.device.Device;

/**
 * Where a GPU forward step's device time goes, by phase: the transformer marks the device's work after each group of
 * launches ({@link #done}), and the time between two marks is the phase of the second. Profiled steps run eagerly
 * (no CUDA graph), with a CUDA event between phases; the events cost a little, so profile apart from timing runs.
 */
public final class StepProfile {
    /** The phases of a step. */
    public enum Phase {
        /** Copies of the step's inputs, the embedding lookup. */
        INPUTS,
        /** RMSNorm before attention and MLP, q/k norms, RoPE. */
        NORMS_AND_ROPE,
        /** The q, k, v and output projections. */
        PROJECTIONS,
        /** Storing the step's keys and values. */
        KV_APPEND,
        /** Attention: split-KV partials and their merge. */
        ATTENTION,
        /** The gate, up and down projections. */
        MLP,
        /** SwiGLU and the residual adds. */
        ELEMENTWISE,
        /** The final norm, the LM head, the logits' copy to the host. */
        LOGITS
    }

    private record Span(Phase phase, Device.Mark from, Device.Mark to) {}

    private final Map<Phase, Double> millis = new EnumMap<>(Phase.class);
    private final List<Span> pending = new ArrayList<>();
    private Device.Mark last;
    private int steps;

    /** Starts a step at {@code mark}. */
    void start(Device.Mark mark) {
        last = mark;
    }

    /** The work enqueued since the previous mark was {@code phase}. */
    void done(Device.Mark mark, Phase phase) {
        pending.add(new Span(phase, last, mark));
        last = mark;
    }

    /** After the device has reached every mark: adds the step's spans up and frees the marks. */
    void finish() {
        for (Span s : pending) {
            millis.merge(s.phase, s.to.millisSince(s.from), Double::sum);
        }
        for (Span s : pending) {
            s.from.close();
        }
        if (last != null) {
            last.close();
        }
        pending.clear();
        last = null;
        steps++;
    }

    /** Milliseconds per step of each phase, over the profiled steps. */
    public Map<Phase, Double> millisPerStep() {
        Map<Phase, Double> perStep = new EnumMap<>(Phase.class);
        millis.forEach((phase, total) -> perStep.put(phase, total / Math.max(1, steps)));
        return perStep;
    }

    public int steps() {
        return steps;
    }
}
