package org.retroinfer.kvstore;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** A cache's open sequences by id: ids are handed out once, and an id that is not open is an error. */
public final class OpenSequences<S> {
    private final Map<Integer, S> open = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger();

    /** Registers {@code sequence} under a new id and returns the id. */
    public int open(S sequence) {
        int id = nextId.getAndIncrement();
        open.put(id, sequence);
        return id;
    }

    /** The sequence of {@code id}. */
    public S get(int id) {
        S s = open.get(id);
        if (s == null) {
            throw notOpen(id);
        }
        return s;
    }

    /** Unregisters {@code id} and returns its sequence, for the caller to free. */
    public S remove(int id) {
        S s = open.remove(id);
        if (s == null) {
            throw notOpen(id);
        }
        return s;
    }

    public Collection<S> all() {
        return open.values();
    }

    /** A snapshot of the open ids. */
    public List<Integer> ids() {
        return List.copyOf(open.keySet());
    }

    private static IllegalArgumentException notOpen(int id) {
        return new IllegalArgumentException("sequence " + id + " is not open");
    }
}
