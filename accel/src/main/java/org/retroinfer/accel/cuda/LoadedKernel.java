package org.retroinfer.accel.cuda;

import java.lang.foreign.MemorySegment;
import org.retroinfer.accel.compiler.CompiledKernel;

/**
 * A compiled kernel loaded into the GPU's context: the module, the entry function, and what the driver's
 * JIT reported (registers, static shared memory, the full log).
 */
public record LoadedKernel(CompiledKernel compiled, MemorySegment module, MemorySegment function, int registers,
                           int staticSharedBytes, String jitLog) {
    static final int ATTRIBUTE_SHARED_SIZE_BYTES = 1;
    static final int ATTRIBUTE_NUM_REGS = 4;

    public String name() {
        return compiled.key().shortName();
    }
}
