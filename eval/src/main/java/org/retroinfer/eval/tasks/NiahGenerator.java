package org.retroinfer.eval.tasks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
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
 * order ({@code tools/train-tiny/README.md}, "Task formats" and "Random draws"). Only the tasks
 * whose haystack needs nothing but the seed are here: noise lines ({@code niah_single_1}) and
 * distractor needles ({@code niah_multikey_2}, {@code niah_multikey_3}); the text-haystack tasks
 * draw lines from documents of the training machine, so their prompts come from the held-out file.
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

    private enum Haystack { NOISE, NEEDLES }

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
            EvalTask.NIAH_MULTIKEY_2, new Spec(Haystack.NEEDLES, Kind.WORDS, Kind.NUMBERS, 1, 1, 1),
            EvalTask.NIAH_MULTIKEY_3, new Spec(Haystack.NEEDLES, Kind.UUIDS, Kind.UUIDS, 1, 1, 1)));

    private NiahGenerator() {}

    /** The tasks this generator makes, in {@link EvalTask} order. */
    public static Set<EvalTask> tasks() {
        return Collections.unmodifiableSet(SPECS.keySet());
    }

    /** One prompt of {@code task} from {@code seed} with a haystack of {@code size} units. */
    public static TaskPrompt generate(EvalTask task, long seed, int size, WordKeys.Split split) {
        Spec spec = SPECS.get(task);
        if (spec == null) {
            throw new IllegalArgumentException("no seeded generator for task " + task + "; seeded tasks: " + taskIds());
        }
        if (size < MIN_SIZE) {
            throw new IllegalArgumentException("task " + task + " needs a haystack of at least " + MIN_SIZE
                    + " units, got " + size);
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
        for (int i = 0; i < size; i++) {
            if (spec.haystack() == Haystack.NOISE) {
                haystack.add(NOISE);
            } else {
                String k = key(spec.key(), rng, split, used);
                haystack.add(NEEDLE.formatted(type, k, value(spec.value(), rng)));
            }
        }

        List<String[]> needles = new ArrayList<>(); // (key, value) in the order keys and values were drawn
        for (int i = 0; i < keyCount; i++) {
            for (String v : values.get(i)) {
                needles.add(new String[] {keys.get(i), v});
            }
        }
        List<Integer> positions = rng.distinct(size + 1, needles.size());
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
     * is at most {@code targetLength}, with the largest haystack lengthfit.py's search finds.
     *
     * @throws IllegalArgumentException where even the smallest haystack does not fit
     */
    public static Sample fitted(EvalTask task, long seed, int targetLength, WordKeys.Split split, Tokenizer tokenizer) {
        int size = LengthFit.fitSize(s -> tokens(generate(task, seed, s, split), tokenizer) <= targetLength, MIN_SIZE,
                targetLength);
        TaskPrompt p = generate(task, seed, size, split);
        int promptTokens = tokenizer.encode(p.prompt(), false).length;
        int answerTokens = tokenizer.encode(p.answer(), false).length;
        return new Sample(task, targetLength, 0, seed, size, 1 + promptTokens, answerTokens, p.prompt(), p.answer(),
                p.references());
    }

    /** lengthfit.py's sample_tokens: BOS + prompt + answer + EOS. */
    private static int tokens(TaskPrompt p, Tokenizer tokenizer) {
        return tokenizer.encode(p.prompt(), false).length + tokenizer.encode(p.answer(), false).length + 2;
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
        return String.join(", ", SPECS.keySet().stream().map(EvalTask::id).toList());
    }
}
