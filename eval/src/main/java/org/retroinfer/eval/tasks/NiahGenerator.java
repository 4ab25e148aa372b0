package org.retroinfer.eval.tasks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.retroinfer.eval.EvalTask;
import org.retroinfer.eval.Sample;
import org.retroinfer.model.tokenizer.Tokenizer;

/**
 * RULER's needle-in-a-haystack prompts, generated from a seed exactly as
 * {@code tools/train-tiny/tasks.py} generates them: the same template, the same draws in the same
 * order ({@code tools/train-tiny/README.md}, "Task formats" and "Random draws"). The haystack is
 * noise lines ({@code niah_single_1}), distractor needles ({@code niah_multikey_2},
 * {@code niah_multikey_3}) or lines of real text from a {@link TextHaystack} (the other five). The
 * seeded tasks need nothing but the seed; a text task's prompt equals Python's where the haystack
 * serves the same documents.
 */
public final class NiahGenerator {
    static final String NOISE = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";
    private static final String TEMPLATE = "Some special magic {type} are hidden within the following text. Make sure to "
            + "memorize it. I will quiz you about the {type} afterwards.\n{context}\nWhat are all the special magic {type} "
            + "for {query} mentioned in the provided text? The special magic {type} for {query} mentioned in the "
            + "provided text are";
    private static final String NEEDLE = "One of the special magic %s for %s is: %s.";
    /** The smallest haystack of every NIAH task, in units (tasks.py's MIN_SIZE). */
    public static final int MIN_SIZE = 4;

    private enum Haystack { NOISE, NEEDLES, TEXT }

    private enum Kind {
        WORDS, NUMBERS, UUIDS;

        /** The {type} of the template: what the needles hide. */
        String plural() {
            return name().toLowerCase();
        }
    }

    private record Spec(Haystack haystack, Kind key, Kind value, int keys, int values, int queries) {}

    private static final Map<EvalTask, Spec> SPECS = new EnumMap<>(Map.of(
            EvalTask.NIAH_SINGLE_1, new Spec(Haystack.NOISE, Kind.WORDS, Kind.NUMBERS, 1, 1, 1),
            EvalTask.NIAH_SINGLE_2, new Spec(Haystack.TEXT, Kind.WORDS, Kind.NUMBERS, 1, 1, 1),
            EvalTask.NIAH_SINGLE_3, new Spec(Haystack.TEXT, Kind.WORDS, Kind.UUIDS, 1, 1, 1),
            EvalTask.NIAH_MULTIKEY_1, new Spec(Haystack.TEXT, Kind.WORDS, Kind.NUMBERS, 4, 1, 1),
            EvalTask.NIAH_MULTIKEY_2, new Spec(Haystack.NEEDLES, Kind.WORDS, Kind.NUMBERS, 1, 1, 1),
            EvalTask.NIAH_MULTIKEY_3, new Spec(Haystack.NEEDLES, Kind.UUIDS, Kind.UUIDS, 1, 1, 1),
            EvalTask.NIAH_MULTIVALUE, new Spec(Haystack.TEXT, Kind.WORDS, Kind.NUMBERS, 1, 4, 1),
            EvalTask.NIAH_MULTIQUERY, new Spec(Haystack.TEXT, Kind.WORDS, Kind.NUMBERS, 4, 1, 4)));
    /** The tasks whose prompt needs nothing but the seed (no {@link TextHaystack}), in {@link EvalTask} order. */
    private static final Set<EvalTask> SEEDED = Collections.unmodifiableSet(EnumSet.of(EvalTask.NIAH_SINGLE_1,
            EvalTask.NIAH_MULTIKEY_2, EvalTask.NIAH_MULTIKEY_3));

    private NiahGenerator() {}

    /** The tasks built from a seed alone (no text haystack), in {@link EvalTask} order. */
    public static Set<EvalTask> tasks() {
        return SEEDED;
    }

    /** Every NIAH task, in {@link EvalTask} order. */
    public static Set<EvalTask> allTasks() {
        return Collections.unmodifiableSet(SPECS.keySet());
    }

    /** Whether {@code task} is a NIAH task whose haystack is real text. */
    public static boolean isTextTask(EvalTask task) {
        Spec spec = SPECS.get(task);
        return spec != null && spec.haystack() == Haystack.TEXT;
    }

    /** One prompt of a seeded task ({@link #tasks()}) from {@code seed} with a haystack of {@code size} units. */
    public static TaskPrompt generate(EvalTask task, long seed, int size, WordKeys.Split split) {
        if (!SEEDED.contains(task)) {
            throw new IllegalArgumentException("no seeded generator for task " + task + "; seeded tasks: " + taskIds());
        }
        return generate(task, seed, size, split, null);
    }

    /**
     * One prompt of any NIAH task from {@code seed} with a haystack of {@code size} units; the text
     * tasks take their lines from {@code text}, which the other tasks do not need (it may be null).
     */
    public static TaskPrompt generate(EvalTask task, long seed, int size, WordKeys.Split split, TextHaystack text) {
        Spec spec = SPECS.get(task);
        if (spec == null) {
            throw new IllegalArgumentException("task " + task + " is not a needle-in-a-haystack task; NIAH tasks: "
                    + String.join(", ", SPECS.keySet().stream().map(EvalTask::id).toList()));
        }
        return build(task, spec, seed, size, split, text, -1);
    }

    /**
     * A {@code niah_single_1} prompt (noise haystack, word key, 7-digit value) with the needle at
     * {@code depthPercent} percent of the haystack instead of a drawn place: before noise line
     * {@code round(size * depthPercent / 100)}, halves rounded up, so that 0 puts it first and 100
     * after the last line. The key and value are drawn as niah_single_1 draws them.
     */
    public static TaskPrompt atDepth(long seed, int size, int depthPercent, WordKeys.Split split) {
        if (depthPercent < 0 || depthPercent > 100) {
            throw new IllegalArgumentException("depthPercent must be in [0, 100], got " + depthPercent);
        }
        int position = (int) (((long) size * depthPercent + 50) / 100);
        return build(EvalTask.NIAH_SINGLE_1, SPECS.get(EvalTask.NIAH_SINGLE_1), seed, size, split, null, position);
    }

    /** The prompt; {@code fixedPosition} is the needle's place for a single needle, or -1 to draw it. */
    private static TaskPrompt build(EvalTask task, Spec spec, long seed, int size, WordKeys.Split split,
                                    TextHaystack text, int fixedPosition) {
        if (size < MIN_SIZE) {
            throw new IllegalArgumentException("task " + task + " needs a haystack of at least " + MIN_SIZE
                    + " units, got " + size);
        }
        if (spec.haystack() == Haystack.TEXT && text == null) {
            throw new IllegalArgumentException("task " + task + " needs a text haystack (TextHaystack.read of a "
                    + "model's eval/haystack.txt.gz)");
        }
        SplitMix64 rng = new SplitMix64(seed);
        int keyCount = Math.max(spec.keys(), spec.queries());
        Set<String> used = new HashSet<>();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < keyCount; i++) {
            keys.add(key(spec.key(), rng, split, used));
        }
        List<List<String>> values = new ArrayList<>();
        for (int i = 0; i < keyCount; i++) {
            List<String> v = new ArrayList<>();
            for (int j = 0; j < spec.values(); j++) {
                v.add(value(spec.value(), rng));
            }
            values.add(v);
        }
        List<Integer> queried = rng.distinct(keyCount, spec.queries());

        String type = spec.value().plural();
        List<String> haystack = new ArrayList<>(size);
        switch (spec.haystack()) {
            case NOISE -> haystack.addAll(Collections.nCopies(size, NOISE));
            case NEEDLES -> {
                for (int i = 0; i < size; i++) {
                    String k = key(spec.key(), rng, split, used);
                    haystack.add(NEEDLE.formatted(type, k, value(spec.value(), rng)));
                }
            }
            // One draw whatever the number of documents (a rejection needs a draw within
            // documents() of 2^64), so the needles' places below do not depend on the text.
            case TEXT -> haystack.addAll(text.linesFrom(rng.below(text.documents()), size));
        }

        List<String[]> needles = new ArrayList<>(); // (key, value) in the order keys and values were drawn
        for (int i = 0; i < keyCount; i++) {
            for (String v : values.get(i)) {
                needles.add(new String[] {keys.get(i), v});
            }
        }
        List<Integer> positions = fixedPosition < 0 ? rng.distinct(size + 1, needles.size()) : List.of(fixedPosition);
        Map<Integer, Integer> needleAt = new HashMap<>();
        for (int i = 0; i < positions.size(); i++) {
            needleAt.put(positions.get(i), i);
        }
        List<String> lines = new ArrayList<>(size + needles.size());
        List<Integer> order = new ArrayList<>(); // needles in the order they appear in the text
        for (int slot = 0; slot <= size; slot++) {
            Integer n = needleAt.get(slot);
            if (n != null) {
                lines.add(NEEDLE.formatted(type, needles.get(n)[0], needles.get(n)[1]));
                order.add(n);
            }
            if (slot < size) {
                lines.add(haystack.get(slot));
            }
        }

        List<String> answerValues = new ArrayList<>();
        for (int q : queried) {
            for (int n : order) {
                if (needles.get(n)[0].equals(keys.get(q))) {
                    answerValues.add(needles.get(n)[1]);
                }
            }
        }
        List<String> queriedKeys = queried.stream().map(keys::get).toList();
        String template = TEMPLATE;
        if (spec.queries() * spec.values() == 1) {
            // RULER's rewrite when one value is asked for, in its order, before the placeholders are filled
            String[][] rewrites = {{"Some", "A"}, {"are all", "is"}, {"are", "is"}, {"answers", "answer"}};
            for (String[] rewrite : rewrites) {
                template = template.replace(rewrite[0], rewrite[1]);
            }
            type = type.substring(0, type.length() - 1);
        }
        String[] parts = template.replace("{type}", type).split("\\{context}", -1);
        String prompt = parts[0] + String.join("\n", lines) + parts[1].replace("{query}", joinQuery(queriedKeys));
        return new TaskPrompt(prompt, " " + String.join(", ", answerValues) + ".", answerValues);
    }

    /**
     * A sample of {@code task} from {@code seed} whose length (BOS, prompt, answer and EOS tokens)
     * is at most {@code targetLength}, with the largest haystack lengthfit.py's search finds; see
     * {@link RulerTasks#fitted}, which this is for the seeded tasks.
     *
     * @throws IllegalArgumentException where even the smallest haystack does not fit
     */
    public static Sample fitted(EvalTask task, long seed, int targetLength, WordKeys.Split split, Tokenizer tokenizer) {
        return RulerTasks.fitted(task, seed, targetLength, split, null, tokenizer);
    }

    private static String key(Kind kind, SplitMix64 rng, WordKeys.Split split, Set<String> used) {
        if (kind == Kind.WORDS) {
            return WordKeys.lists().draw(rng, split, used);
        }
        while (true) {
            String key = rng.uuid4();
            if (used.add(key)) {
                return key;
            }
        }
    }

    private static String value(Kind kind, SplitMix64 rng) {
        return kind == Kind.NUMBERS ? Long.toString(rng.between(1_000_000, 9_999_999)) : rng.uuid4();
    }

    private static String joinQuery(List<String> keys) {
        if (keys.size() == 1) {
            return keys.getFirst();
        }
        return String.join(", ", keys.subList(0, keys.size() - 1)) + ", and " + keys.getLast();
    }

    /** The seeded tasks' names, for messages. */
    public static String taskIds() {
        return String.join(", ", SEEDED.stream().map(EvalTask::id).toList());
    }
}
