package org.retroinfer.serve;

import java.util.List;

/**
 * Cuts generated text at the first of a request's stop strings, which OpenAI leaves out of the
 * output. Text is fed as it is decoded; what could still be the start of a stop string is held
 * back until the next piece says whether it is one, so a client never sees part of a stop string.
 */
final class StopMatcher {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    StopMatcher(List<String> stops) {
        this.stops = List.copyOf(stops);
    }

    /** The text that may be sent now; after a stop string, the text before it and nothing more. */
    String push(String piece) {
        if (stopped) {
            return "";
        }
        held.append(piece);
        int first = -1;
        for (String stop : stops) {
            int at = held.indexOf(stop);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        if (first >= 0) {
            stopped = true;
            String out = held.substring(0, first);
            held.setLength(0);
            return out;
        }
        int keep = 0;
        for (String stop : stops) {
            for (int k = Math.min(stop.length() - 1, held.length()); k > keep; k--) {
                if (held.substring(held.length() - k).equals(stop.substring(0, k))) {
                    keep = k;
                    break;
                }
            }
        }
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return out;
    }

    boolean stopped() {
        return stopped;
    }

    /** The text held back at the end of generation, where no stop string completed. */
    String flush() {
        String out = stopped ? "" : held.toString();
        held.setLength(0);
        return out;
    }
}
