package org.retroinfer.benchmarks;

/**
 * The flags of every forked benchmark JVM: those of the project's launcher (the Vector API is
 * an incubator module, FFM calls are restricted) and its collector.
 */
final class BenchmarkJvm {
    static final String VECTOR_API = "--add-modules=jdk.incubator.vector";
    static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
    static final String GC = "-XX:+UseParallelGC";

    private BenchmarkJvm() {}
}
