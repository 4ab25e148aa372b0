package org.retroinfer.accel.compiler.frontend;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.compiler.CompileOptions;
import org.retroinfer.accel.compiler.ir.Function;
import org.retroinfer.accel.compiler.ir.MemType;
import org.retroinfer.accel.compiler.ir.SharedArray;
import org.retroinfer.accel.compiler.ir.SourcePosition;
import org.retroinfer.accel.compiler.ir.Value;

/**
 * State shared by the translation of a kernel and every helper inlined into it: the IR function, the
 * options, the chain of inlined calls (for recursion checks and messages) and the shared arrays.
 */
final class FunctionBuilder {
    /** One method being inlined, with the call site it was inlined at (null for the kernel itself). */
    record Frame(String owner, String name, String descriptor, SourcePosition callSite) {}

    private final Function function;
    private final CompileOptions options;
    private final Deque<Frame> inlineStack = new ArrayDeque<>();
    /** Doubles known to be exact widenings of a float (f2d), so Math.exp((double) f) can run in float. */
    private final Map<Value, Value> widenedFloats = new HashMap<>();
    /**
     * Doubles whose rounding to float is known to equal a float computation (a widening, or Math.sqrt of
     * one), so that {@code (float) Math.sqrt(f)} becomes one float instruction while other uses of the double
     * keep its full precision.
     */
    private final Map<Value, Value> roundedFloats = new HashMap<>();
    /** The element type each {@code HalfPrecisionArray} parameter is compiled for. */
    private final Map<Value, ElementType> halfTypes = new HashMap<>();
    private int nextUninitialized;

    FunctionBuilder(Function function, CompileOptions options) {
        this.function = function;
        this.options = options;
    }

    Function function() {
        return function;
    }

    void specialiseHalf(Value parameter, ElementType type) {
        halfTypes.put(parameter, type);
    }

    /** The element type a {@code HalfPrecisionArray} parameter was compiled for, or null if {@code array} is not one. */
    ElementType halfType(Value array) {
        return halfTypes.get(array);
    }

    CompileOptions options() {
        return options;
    }

    void enter(Frame frame) {
        inlineStack.push(frame);
    }

    void leave() {
        inlineStack.pop();
    }

    boolean isBeingTranslated(String owner, String name, String descriptor) {
        return inlineStack.stream().anyMatch(f -> f.owner().equals(owner) && f.name().equals(name)
                && f.descriptor().equals(descriptor));
    }

    int inlineDepth() {
        return inlineStack.size();
    }

    /** The call sites from the innermost inlined method out to the kernel. */
    List<SourcePosition> callChain() {
        List<SourcePosition> chain = new ArrayList<>();
        for (Frame f : inlineStack) {
            if (f.callSite() != null) {
                chain.add(f.callSite());
            }
        }
        return chain;
    }

    SharedArray newSharedArray(MemType element, int length) {
        SharedArray a = new SharedArray(function.name() + "_smem" + function.sharedArrays().size(), element, length);
        function.sharedArrays().add(a);
        return a;
    }

    void recordWidening(Value dbl, Value flt) {
        widenedFloats.put(dbl, flt);
        roundedFloats.put(dbl, flt);
    }

    /** Records that {@code (float) dbl} equals {@code flt}, without {@code dbl} being a float. */
    void recordRounding(Value dbl, Value flt) {
        roundedFloats.put(dbl, flt);
    }

    /** The float that equals {@code (float) dbl}, or null. */
    Value roundedTo(Value dbl) {
        return roundedFloats.get(dbl);
    }

    /** The float a double was widened from, or null. */
    Value widenedFrom(Value dbl) {
        return widenedFloats.get(dbl);
    }

    int nextUninitializedId() {
        return nextUninitialized++;
    }
}
