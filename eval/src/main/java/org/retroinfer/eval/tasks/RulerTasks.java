package org.retroinfer.eval.tasks;

import org.retroinfer.eval.EvalTask;
import org.retroinfer.eval.Sample;
import org.retroinfer.model.tokenizer.Tokenizer;

/**
 * The one entry point to the task generators: a prompt of any {@link EvalTask} from a seed and a
 * haystack size, or a sample fitted to a length in the model's own tokens.
 *
 * <p>Seeds. A sample's seed is {@code SplitMix64.deriveSeed(base, "eval/{task}/{length}/{index}")}
 * ({@link #sampleSeed}), a NIAH grid cell's {@code deriveSeed(base, "grid/{length}/{depth}/{index}")}
 * ({@link #gridSeed}): the held-out set's scheme ({@code heldout/...}) under another prefix, so that
 * evaluation samples never repeat held-out ones and each (task, length, index) gets its own prompt
 * whatever else a run asks for.
 *
 * <p>Fitting. A sample's length is BOS + prompt + answer + EOS tokens (lengthfit.py's
 * {@code sample_tokens}); its size is the one {@link LengthFit} settles on from the task's minimum
 * (tasks.py's {@code MIN_SIZE}), each size built afresh from the seed. {@link Sample#length()} is BOS
 * + prompt, as in the held-out file.
 */
public final class RulerTasks {
    private RulerTasks() {}

    /** The seed of sample {@code index} of {@code task} at {@code targetLength} under {@code baseSeed}. */
    public static long sampleSeed(long baseSeed, EvalTask task, int targetLength, int index) {
        return SplitMix64.deriveSeed(baseSeed, "eval/" + task.id() + "/" + targetLength + "/" + index);
    }

    /** The seed of sample {@code index} of the NIAH grid cell (targetLength, depthPercent) under {@code baseSeed}. */
    public static long gridSeed(long baseSeed, int targetLength, int depthPercent, int index) {
        return SplitMix64.deriveSeed(baseSeed, "grid/" + targetLength + "/" + depthPercent + "/" + index);
    }

    /** The smallest haystack of {@code task}, in its units (tasks.py's MIN_SIZE; cwe's is ours). */
    public static int minSize(EvalTask task) {
        return switch (task) {
            case VT -> VariableTracking.MIN_SIZE;
            case FWE -> FrequentWords.MIN_SIZE;
            case PASSKEY -> Passkey.MIN_SIZE;
            case CWE -> CommonWords.MIN_SIZE;
            default -> NiahGenerator.MIN_SIZE;
        };
    }

    /** Whether a prompt of {@code task} needs a {@link TextHaystack}. */
    public static boolean needsText(EvalTask task) {
        return NiahGenerator.isTextTask(task);
    }

    /**
     * One prompt of {@code task} from {@code seed} with a haystack of {@code size} units.
     * {@code targetLength} is the length the sample is meant for: fwe's vocabulary and cwe's form
     * follow it, the other tasks ignore it. {@code text} serves the text-haystack tasks and may be
     * null for the others.
     */
    public static TaskPrompt generate(EvalTask task, long seed, int size, int targetLength, WordKeys.Split split,
                                      TextHaystack text) {
        return switch (task) {
            case VT -> VariableTracking.generate(seed, size);
            case FWE -> FrequentWords.generate(seed, size, targetLength);
            case PASSKEY -> Passkey.generate(seed, size);
            case CWE -> CommonWords.generate(seed, size, targetLength);
            default -> NiahGenerator.generate(task, seed, size, split, text);
        };
    }

    /**
     * Sample {@code index} of {@code task} at {@code targetLength}, its seed {@link #sampleSeed} of
     * {@code baseSeed}, fitted to {@code targetLength} tokens.
     *
     * @throws IllegalArgumentException where even the task's smallest haystack does not fit
     */
    public static Sample sample(EvalTask task, long baseSeed, int targetLength, int index, WordKeys.Split split,
                                TextHaystack text, Tokenizer tokenizer) {
        long seed = sampleSeed(baseSeed, task, targetLength, index);
        return fit(task, seed, targetLength, index, split, text, tokenizer,
                size -> generate(task, seed, size, targetLength, split, text));
    }

    /**
     * A sample of {@code task} from {@code seed} whose length is at most {@code targetLength} tokens,
     * with the largest haystack the search finds; its index is 0.
     *
     * @throws IllegalArgumentException where even the task's smallest haystack does not fit, or a
     *                                  text task has no haystack
     */
    public static Sample fitted(EvalTask task, long seed, int targetLength, WordKeys.Split split, TextHaystack text,
                                Tokenizer tokenizer) {
        return fit(task, seed, targetLength, 0, split, text, tokenizer,
                size -> generate(task, seed, size, targetLength, split, text));
    }

    /**
     * A NIAH grid sample: the {@code niah_single_1} format with the needle at {@code depthPercent}
     * percent of the noise ({@link NiahGenerator#atDepth}), fitted to {@code targetLength} tokens
     * with the same search. The sample's task is {@code niah_single_1}; its index is 0.
     */
    public static Sample niahGrid(long seed, int targetLength, int depthPercent, WordKeys.Split split,
                                  Tokenizer tokenizer) {
        if (depthPercent < 0 || depthPercent > 100) {
            throw new IllegalArgumentException("depthPercent must be in [0, 100], got " + depthPercent);
        }
        return fit(EvalTask.NIAH_SINGLE_1, seed, targetLength, 0, split, null, tokenizer,
                size -> NiahGenerator.atDepth(seed, size, depthPercent, split));
    }

    private interface Builder {
        TaskPrompt build(int size);
    }

    private static Sample fit(EvalTask task, long seed, int targetLength, int index, WordKeys.Split split,
                              TextHaystack text, Tokenizer tokenizer, Builder builder) {
        if (targetLength < 1) {
            throw new IllegalArgumentException("targetLength must be positive, got " + targetLength);
        }
        if (needsText(task) && text == null) {
            throw new IllegalArgumentException("task " + task + " needs a text haystack (TextHaystack.forModel of "
                    + "the model directory)");
        }
        // checked before the search, whose refusal of the smallest size is the only one it rethrows below
        builder.build(minSize(task));
        int size;
        try {
            size = LengthFit.fitSize(s -> tokens(builder.build(s), tokenizer) <= targetLength, minSize(task),
                    targetLength);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("task " + task + " does not fit in " + targetLength + " tokens: "
                    + e.getMessage(), e);
        }
        TaskPrompt p = builder.build(size);
        int promptTokens = tokenizer.encode(p.prompt(), false).length;
        int answerTokens = tokenizer.encode(p.answer(), false).length;
        return new Sample(task, targetLength, index, seed, size, 1 + promptTokens, answerTokens, p.prompt(), p.answer(),
                p.references());
    }

    /** lengthfit.py's sample_tokens: BOS + prompt + answer + EOS. */
    private static int tokens(TaskPrompt p, Tokenizer tokenizer) {
        return tokenizer.encode(p.prompt(), false).length + tokenizer.encode(p.answer(), false).length + 2;
    }
}
