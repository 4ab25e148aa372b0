package org.retroinfer.accel.compiler;

import java.util.Map;
import java.util.TreeMap;

/**
 * What a compiled kernel depends on: the kernel class's bytes (by SHA-256), the method, the values of its
 * {@code @Constant} parameters, the target and the options. Equal keys give identical PTX.
 */
public record CompileKey(String classSha256, String className, String method, Map<Integer, Object> constants,
                         CompileOptions options) {
    public CompileKey {
        constants = java.util.Collections.unmodifiableMap(new TreeMap<>(constants));
    }

    /** A short name for file names and logs: method, constants and target, e.g. {@code softmax-n=128.sm_90}. */
    public String shortName() {
        StringBuilder sb = new StringBuilder(className.substring(className.lastIndexOf('.') + 1)).append('.')
                .append(method.substring(0, method.indexOf('(')));
        constants.forEach((k, v) -> sb.append("-p").append(k).append('=').append(v));
        sb.append('.').append(options.target().smName());
        if (options.fastMath()) {
            sb.append(".fast");
        }
        return sb.toString();
    }
}
