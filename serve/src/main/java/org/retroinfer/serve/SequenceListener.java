package org.retroinfer.serve;

/**
 * Receives what a sequence produces, on the scheduler's thread: implementations hand it on and
 * return at once, for the scheduler runs every sequence's next step.
 */
public interface SequenceListener {
    /** Complete new text (UTF-8 safe, stop strings cut off). */
    void text(String piece);

    /** The sequence ended; its memory is already freed. */
    void finished(FinishReason reason, int promptTokens, int completionTokens);

    /** The sequence was dropped without finishing (server failure or shutdown). */
    void failed(ApiException error);

    /** Why a sequence ended, as OpenAI's {@code finish_reason} names it. */
    enum FinishReason {
        /** An end-of-sequence token or a stop string. */
        STOP,
        /** {@code max_tokens} reached. */
        LENGTH;

        public String openAiName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
