package org.retroinfer.eval;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Optional;

/**
 * The long-context tasks, named as NVIDIA RULER names them ({@code passkey} is the landmark-attention
 * pass-key test). Formats: {@code tools/train-tiny/README.md}, "Task formats".
 */
public enum EvalTask {
    NIAH_SINGLE_1("niah_single_1", true),
    NIAH_SINGLE_2("niah_single_2", true),
    NIAH_SINGLE_3("niah_single_3", true),
    NIAH_MULTIKEY_1("niah_multikey_1", true),
    NIAH_MULTIKEY_2("niah_multikey_2", true),
    NIAH_MULTIKEY_3("niah_multikey_3", true),
    NIAH_MULTIVALUE("niah_multivalue", true),
    NIAH_MULTIQUERY("niah_multiquery", true),
    VT("vt", false),
    FWE("fwe", false),
    PASSKEY("passkey", true),
    /** Common-words extraction, built RULER-like for evaluation only (retro-tiny was not trained on it). */
    CWE("cwe", false);

    private final String id;
    private final boolean needle;

    EvalTask(String id, boolean needle) {
        this.id = id;
        this.needle = needle;
    }

    /** The task's name in files and reports, e.g. {@code niah_single_1}. */
    @JsonValue
    public String id() {
        return id;
    }

    /**
     * Whether the task counts among the "needle tasks" of issue 5's quality bar: the eight
     * {@code niah_*} tasks and {@code passkey} ({@code tools/train-tiny/tasks.py}'s NEEDLE_TASKS).
     */
    public boolean isNeedleTask() {
        return needle;
    }

    public static Optional<EvalTask> byId(String id) {
        return Arrays.stream(values()).filter(t -> t.id.equals(id)).findFirst();
    }

    /**
     * The task named {@code id}.
     *
     * @throws IllegalArgumentException naming the known tasks where there is none
     */
    public static EvalTask of(String id) {
        return byId(id).orElseThrow(() -> new IllegalArgumentException("unknown task '" + id + "'; known tasks: "
                + ids()));
    }

    /** Every task's name, comma-separated, for messages. */
    public static String ids() {
        return String.join(", ", Arrays.stream(values()).map(EvalTask::id).toList());
    }

    @Override
    public String toString() {
        return id;
    }
}
