package org.retroinfer.model.tokenizer;

import java.util.List;

/**
 * A Hugging Face post-processor, applied when {@code addSpecialTokens} is set: the special tokens
 * it puts around the encoded text (e.g. Mistral's {@code <s>}).
 */
sealed interface PostProcessor {
    int[] apply(int[] ids);

    /** {@code TemplateProcessing}'s single-sequence template: special tokens before and after the text. */
    record Template(int[] before, int[] after) implements PostProcessor {
        public Template {
            before = before.clone();
            after = after.clone();
        }

        @Override
        public int[] apply(int[] ids) {
            int[] out = new int[before.length + ids.length + after.length];
            System.arraycopy(before, 0, out, 0, before.length);
            System.arraycopy(ids, 0, out, before.length, ids.length);
            System.arraycopy(after, 0, out, before.length + ids.length, after.length);
            return out;
        }
    }

    record Sequence(List<PostProcessor> steps) implements PostProcessor {
        public Sequence {
            steps = List.copyOf(steps);
        }

        @Override
        public int[] apply(int[] ids) {
            for (PostProcessor step : steps) {
                ids = step.apply(ids);
            }
            return ids;
        }
    }

    /** No special tokens: no post-processor, or one ({@code ByteLevel}) that only adjusts offsets. */
    record None() implements PostProcessor {
        @Override
        public int[] apply(int[] ids) {
            return ids;
        }
    }
}
