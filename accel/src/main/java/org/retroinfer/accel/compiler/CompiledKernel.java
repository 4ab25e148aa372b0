package org.retroinfer.accel.compiler;

import org.retroinfer.accel.kernel.KernelMethod;

/** One specialisation of a kernel as PTX: the module text and the name of its {@code .entry}. */
public record CompiledKernel(KernelMethod kernel, CompileKey key, String entryName, String ptx) {}
