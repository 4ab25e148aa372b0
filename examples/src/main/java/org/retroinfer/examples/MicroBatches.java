package org.retroinfer.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;
import org.retroinfer.accel.device.Device;

/**
 * A batch decoded as several micro-batches at once, each on its own queue of one GPU ({@link Device#sibling}) and driven
 * by its own host thread, so that one micro-batch's transfers over PCIe (RetroInfer's cache misses) overlap another's
 * compute, and one's host lookups another's GPU work. One micro-batch is the plain case: the caller's device and
 * thread.
 */
final class MicroBatches implements AutoCloseable {
    private final List<Device> devices = new ArrayList<>();
    private final ExecutorService threads;

    /** {@code count} micro-batches: {@code device} and {@code count - 1} siblings of it. */
    MicroBatches(Device device, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("at least one micro-batch, got " + count);
        }
        devices.add(device);
        for (int m = 1; m < count; m++) {
            devices.add(device.sibling());
        }
        threads = count == 1 ? null : Executors.newFixedThreadPool(count, r -> {
            Thread t = new Thread(r, "micro-batch");
            t.setDaemon(true);
            return t;
        });
    }

    /** Each micro-batch's device, the first being the one given. */
    List<Device> devices() {
        return devices;
    }

    /**
     * The most device bytes allocated through every micro-batch's device since their peaks were reset: the sum of their
     * peaks, an upper bound where they peaked at different times.
     */
    long peakAllocatedBytes() {
        return devices.stream().mapToLong(Device::peakAllocatedBytes).sum();
    }

    /** Device bytes allocated through every micro-batch's device. */
    long allocatedBytes() {
        return devices.stream().mapToLong(Device::allocatedBytes).sum();
    }

    /**
     * Runs {@code work} for every micro-batch (its index) at once, each on its own thread, once all devices are idle;
     * returns the wall-clock seconds until the last one's work is done and its device idle again.
     */
    double run(IntConsumer work) {
        devices.forEach(Device::synchronize);
        long start = System.nanoTime();
        if (threads == null) {
            work.accept(0);
            devices.getFirst().synchronize();
        } else {
            List<Future<?>> running = new ArrayList<>();
            for (int m = 0; m < devices.size(); m++) {
                int index = m;
                running.add(threads.submit(() -> {
                    work.accept(index);
                    devices.get(index).synchronize();
                }));
            }
            for (Future<?> f : running) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while micro-batches decode", e);
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                }
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /** Stops the threads and closes the siblings (the first device is the caller's). */
    @Override
    public void close() {
        if (threads != null) {
            threads.shutdownNow();
        }
        for (Device d : devices.subList(1, devices.size())) {
            d.close();
        }
    }
}
