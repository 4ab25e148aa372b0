package org.retroinfer.serve;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Hands a sequence's output from the scheduler's thread to the HTTP thread that answers its
 * request: the scheduler never waits on a client, however slowly it reads.
 */
final class EventQueue implements SequenceListener {
    /** What the scheduler reported. */
    sealed interface Event {}

    record Text(String piece) implements Event {}

    record Finished(FinishReason reason, int promptTokens, int completionTokens) implements Event {}

    record Failed(ApiException error) implements Event {}

    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();

    @Override
    public void text(String piece) {
        events.add(new Text(piece));
    }

    @Override
    public void finished(FinishReason reason, int promptTokens, int completionTokens) {
        events.add(new Finished(reason, promptTokens, completionTokens));
    }

    @Override
    public void failed(ApiException error) {
        events.add(new Failed(error));
    }

    /** The next event, or null after {@code millis} without one. */
    Event poll(long millis) throws InterruptedException {
        return events.poll(millis, TimeUnit.MILLISECONDS);
    }
}
