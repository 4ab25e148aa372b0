package org.retroinfer.eval.tasks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * RULER's variable tracking ({@code vt}) as {@code tools/train-tiny/tasks.py} makes it, draw for draw:
 * one in-context example, then the task, each a chain {@code VAR A = value}, {@code VAR B = VAR A}, …
 * of five five-letter names hidden in order among noise lines. Size: noise lines of the task block.
 */
public final class VariableTracking {
    /** Assignments after the first: the chain has {@code HOPS + 1} names. */
    static final int HOPS = 4;
    static final int EXAMPLE_NOISE_LINES = 8;
    /** tasks.py's MIN_SIZE: room for the chain's five places to differ. */
    public static final int MIN_SIZE = HOPS + 1;

    private static final String HEAD = "Memorize and track the chain(s) of variable assignment hidden in the following "
            + "text.\n\n";
    private static final String QUESTION = "\nQuestion: Find all variables that are assigned the value %d in the text "
            + "above.";
    // "5 variables" is RULER's count for one chain of HOPS + 1 names; the prefix has no trailing space
    // (README, "Task formats") so that the answer starts at a pre-token boundary.
    private static final String ANSWER_PREFIX = " Answer: According to the chain(s) of variable assignment in the text "
            + "above, 5 variables are assigned the value %d, they are:";

    private VariableTracking() {}

    public static TaskPrompt generate(long seed, int size) {
        if (size < MIN_SIZE) {
            throw new IllegalArgumentException("task vt needs a haystack of at least " + MIN_SIZE + " units, got "
                    + size);
        }
        SplitMix64 rng = new SplitMix64(seed);
        Set<String> used = new HashSet<>();
        List<String> exampleNames = names(rng, used);
        long exampleValue = rng.between(10000, 99999);
        List<String> names = names(rng, used);
        long value = rng.between(10000, 99999);
        while (value == exampleValue) {
            value = rng.between(10000, 99999);
        }
        List<Integer> examplePositions = rng.distinct(EXAMPLE_NOISE_LINES + 1, HOPS + 1);
        List<Integer> positions = rng.distinct(size + 1, HOPS + 1);
        String prompt = block(exampleNames, exampleValue, EXAMPLE_NOISE_LINES, examplePositions)
                + answer(exampleNames) + "\n\n" + block(names, value, size, positions);
        return new TaskPrompt(prompt, answer(names), names);
    }

    private static List<String> names(SplitMix64 rng, Set<String> used) {
        List<String> names = new ArrayList<>(HOPS + 1);
        while (names.size() < HOPS + 1) {
            StringBuilder name = new StringBuilder(5);
            for (int i = 0; i < 5; i++) {
                name.append((char) ('A' + rng.below(26)));
            }
            if (used.add(name.toString())) {
                names.add(name.toString());
            }
        }
        return names;
    }

    /** One block up to its answer prefix: the chain's i-th line goes before noise line positions[i], sorted. */
    private static String block(List<String> names, long value, int noiseLines, List<Integer> drawn) {
        List<Integer> positions = new ArrayList<>(drawn);
        Collections.sort(positions);
        List<String> lines = new ArrayList<>(noiseLines + names.size());
        int chain = 0;
        for (int slot = 0; slot <= noiseLines; slot++) {
            while (chain < names.size() && positions.get(chain) == slot) {
                lines.add(chain == 0 ? "VAR " + names.get(0) + " = " + value
                        : "VAR " + names.get(chain) + " = VAR " + names.get(chain - 1));
                chain++;
            }
            if (slot < noiseLines) {
                lines.add(NiahGenerator.NOISE);
            }
        }
        return HEAD + String.join("\n", lines) + QUESTION.formatted(value) + ANSWER_PREFIX.formatted(value);
    }

    static String answer(List<String> values) {
        return " " + String.join(", ", values) + ".";
    }
}
