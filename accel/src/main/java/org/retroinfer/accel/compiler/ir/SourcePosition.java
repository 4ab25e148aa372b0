package org.retroinfer.accel.compiler.ir;

/** Where an IR instruction came from: the Java method, source file, line and bytecode offset. */
public record SourcePosition(String className, String method, String sourceFile, int line, int bci) {
    @Override
    public String toString() {
        return className + "." + method + " (" + sourceFile + ":" + line + ", bci " + bci + ")";
    }
}
