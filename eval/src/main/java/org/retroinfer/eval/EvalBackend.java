package org.retroinfer.eval;

import org.retroinfer.kvstore.KvCache;
import org.retroinfer.model.Model;
import org.retroinfer.model.transformer.ForwardPass;

/**
 * Where an evaluation's forward passes run and its caches live. On the CPU ({@link #cpu}) every mode's cache takes
 * the host-array {@link KvCache} calls, so one prefill fills them all ({@link PrefillFanOut}); a GPU forward pass
 * attends through its own cache type, so there each mode prefills its own cache.
 */
public interface EvalBackend {
    ForwardPass forward();

    /** A fresh cache for one sequence of up to {@code capacity} tokens under {@code mode}. */
    KvCache cache(AttentionMode mode, long capacity);

    /** Whether one prefill may fill every mode's cache at once. */
    boolean sharesPrefill();

    /** The model's CPU transformer, each mode's own cache. */
    static EvalBackend cpu(Model model) {
        return new EvalBackend() {
            @Override
            public ForwardPass forward() {
                return model.transformer();
            }

            @Override
            public KvCache cache(AttentionMode mode, long capacity) {
                return mode.create(model.config());
            }

            @Override
            public boolean sharesPrefill() {
                return true;
            }
        };
    }
}
