package org.retroinfer.accel.compiler.frontend;

import java.lang.classfile.Instruction;

/** One bytecode instruction with its offset and source line (-1 where the class has no line table). */
record BytecodeInsn(int bci, int line, Instruction instruction) {}
