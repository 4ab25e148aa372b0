package org.retroinfer.accel.compiler.ir;

/** An atomic read-modify-write: the operation and the memory type. */
public record AtomicOp(String operation, MemType type) {}
