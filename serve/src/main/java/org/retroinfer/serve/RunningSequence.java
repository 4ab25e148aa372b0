package org.retroinfer.serve;

import java.util.BitSet;
import org.retroinfer.model.generation.Sampler;
import org.retroinfer.model.tokenizer.StreamDecoder;
import org.retroinfer.model.tokenizer.Tokenizer;

/**
 * The scheduler's state of one request: waiting, then prefilling its prompt chunk by chunk, then
 * decoding one token a step. Touched by the scheduler's thread only.
 */
final class RunningSequence {
    final SequenceRequest request;
    final SequenceListener listener;
    final Submission submission;
    /** Bytes reserved from the {@link KvBudget} while the sequence runs. */
    final long reservedBytes;
    final long submittedNanos;
    final Sampler sampler;
    final BitSet seen = new BitSet();
    final StreamDecoder decoder;
    final StopMatcher stops;
    /** The cache's sequence id, or -1 before admission. */
    int sequence = -1;
    /** Prompt tokens stored so far. */
    int prefilled;
    int generated;
    /** The last sampled token, fed at the next decode step. */
    int lastToken;

    RunningSequence(SequenceRequest request, SequenceListener listener, Submission submission, long reservedBytes,
                    Tokenizer tokenizer) {
        this.request = request;
        this.listener = listener;
        this.submission = submission;
        this.reservedBytes = reservedBytes;
        this.submittedNanos = System.nanoTime();
        this.sampler = new Sampler(request.sampling());
        this.decoder = tokenizer.streamDecoder(true);
        this.stops = new StopMatcher(request.stopStrings());
        for (int i = 0; i < request.promptLength(); i++) {
            seen.set(request.promptToken(i));
        }
    }

    boolean prefilling() {
        return prefilled < request.promptLength();
    }

    /** The position of the next token the model is fed. */
    long nextPosition() {
        return prefilling() ? prefilled : request.promptLength() + generated - 1L;
    }
}
