package org.retroinfer.accel.compiler.frontend;

import org.retroinfer.accel.compiler.ir.AtomicOp;
import org.retroinfer.accel.compiler.ir.Const;
import org.retroinfer.accel.compiler.ir.MemType;
import org.retroinfer.accel.compiler.ir.Op;
import org.retroinfer.accel.compiler.ir.SharedArray;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.compiler.ir.Value;
import org.retroinfer.accel.compiler.ir.WarpVote;
import org.retroinfer.accel.kernel.ShuffleMode;

/**
 * {@code KernelContext} fields (special registers) and intrinsic methods (barrier, shared arrays,
 * shuffles, votes, atomics). Its other methods (warpSum, the TornadoVM aliases) are plain Java over these and
 * get inlined.
 */
final class ContextIntrinsics {
    /** CUDA's limit on a block's static {@code .shared} memory (more needs dynamic shared memory and an opt-in). */
    private static final long STATIC_SHARED_LIMIT = 48 * 1024;

    private ContextIntrinsics() {}

    /** The value of {@code ctx.<name>}. */
    static Value field(MethodTranslator t, String name) {
        return switch (name) {
            case "globalIdx" -> globalId(t, "x");
            case "globalIdy" -> globalId(t, "y");
            case "globalIdz" -> globalId(t, "z");
            case "localIdx" -> special(t, "%tid.x");
            case "localIdy" -> special(t, "%tid.y");
            case "localIdz" -> special(t, "%tid.z");
            case "groupIdx" -> special(t, "%ctaid.x");
            case "groupIdy" -> special(t, "%ctaid.y");
            case "groupIdz" -> special(t, "%ctaid.z");
            case "localGroupSizeX" -> special(t, "%ntid.x");
            case "localGroupSizeY" -> special(t, "%ntid.y");
            case "localGroupSizeZ" -> special(t, "%ntid.z");
            case "numGroupsX" -> special(t, "%nctaid.x");
            case "numGroupsY" -> special(t, "%nctaid.y");
            case "numGroupsZ" -> special(t, "%nctaid.z");
            case "globalGroupSizeX" -> t.emit(Op.MUL, Type.I32, null, special(t, "%nctaid.x"), special(t, "%ntid.x"));
            case "globalGroupSizeY" -> t.emit(Op.MUL, Type.I32, null, special(t, "%nctaid.y"), special(t, "%ntid.y"));
            case "globalGroupSizeZ" -> t.emit(Op.MUL, Type.I32, null, special(t, "%nctaid.z"), special(t, "%ntid.z"));
            case "laneId" -> special(t, "%laneid");
            case "warpId" -> t.emit(Op.USHR, Type.I32, null, linearLocalId(t), Const.i32(5));
            default -> throw t.error("KernelContext." + name + " cannot be read in a kernel", "");
        };
    }

    private static Value special(MethodTranslator t, String register) {
        return t.emit(Op.SPECIAL, Type.I32, register);
    }

    private static Value globalId(MethodTranslator t, String dim) {
        Value product = t.emit(Op.MUL, Type.I32, null, special(t, "%ctaid." + dim), special(t, "%ntid." + dim));
        return t.emit(Op.ADD, Type.I32, null, product, special(t, "%tid." + dim));
    }

    /** tid.x + ntid.x * (tid.y + ntid.y * tid.z): the order in which the hardware forms warps. */
    private static Value linearLocalId(MethodTranslator t) {
        Value yz = t.emit(Op.ADD, Type.I32, null, special(t, "%tid.y"),
                t.emit(Op.MUL, Type.I32, null, special(t, "%ntid.y"), special(t, "%tid.z")));
        return t.emit(Op.ADD, Type.I32, null, special(t, "%tid.x"), t.emit(Op.MUL, Type.I32, null, special(t, "%ntid.x"), yz));
    }

    /**
     * Translates {@code ctx.<name><descriptor>(...)} if it is an intrinsic. The arguments are on the stack
     * above the context; on success they and the context are popped and the result pushed.
     */
    static boolean apply(MethodTranslator t, String name, String descriptor) {
        switch (name + descriptor) {
            case "localBarrier()V" -> {
                t.pop();
                t.emitEffect(Op.BARRIER, Type.I32, null);
            }
            case "allocateFloatLocalArray(I)[F" -> shared(t, MemType.F32, "allocateFloatLocalArray");
            case "allocateIntLocalArray(I)[I" -> shared(t, MemType.I32, "allocateIntLocalArray");
            case "allocateHalfFloatLocalArray(I)[S" -> shared(t, MemType.S16, "allocateHalfFloatLocalArray");
            case "shuffleDown(FI)F", "shuffleDown(II)I" -> shuffle(t, ShuffleMode.DOWN);
            case "shuffleUp(FI)F", "shuffleUp(II)I" -> shuffle(t, ShuffleMode.UP);
            case "shuffleXor(FI)F", "shuffleXor(II)I" -> shuffle(t, ShuffleMode.XOR);
            case "shuffleIdx(FI)F", "shuffleIdx(II)I" -> shuffle(t, ShuffleMode.IDX);
            case "ballot(Z)I" -> vote(t, WarpVote.BALLOT);
            case "matchAny(I)I" -> vote(t, WarpVote.MATCH_ANY);
            case "atomicAdd([FIF)F" -> atomic(t, "add", MemType.F32);
            case "atomicAdd([III)I" -> atomic(t, "add", MemType.I32);
            case "atomicMax([III)I" -> atomic(t, "max", MemType.I32);
            case "atomicAdd(Lorg/retroinfer/accel/kernel/F32Array;JF)F" -> atomic(t, "add", MemType.F32);
            case "atomicAdd(Lorg/retroinfer/accel/kernel/I32Array;JI)I" -> atomic(t, "add", MemType.I32);
            case "atomicMax(Lorg/retroinfer/accel/kernel/I32Array;JI)I" -> atomic(t, "max", MemType.I32);
            case "mmaBf16(Lorg/retroinfer/accel/kernel/Float4;IIIIII)Lorg/retroinfer/accel/kernel/Float4;" -> mmaBf16(t);
            case "index()Lorg/retroinfer/accel/kernel/ThreadIndex;" -> throw t.error(
                    "KernelContext.index() is for the emulator on the host", "read the id fields (globalIdx, localIdx, ...)");
            default -> {
                return false;
            }
        }
        return true;
    }

    private static void shared(MethodTranslator t, MemType element, String method) {
        Value size = t.popValue();
        t.pop();
        if (!(size instanceof Const c)) {
            throw t.error("the size of ctx." + method + " must be a compile-time constant",
                    "use a literal, a static final int, or an expression of @Constant parameters");
        }
        long bytes = (long) c.asInt() * element.bytes();
        long total = t.builder().function().sharedArrays().stream().mapToLong(SharedArray::bytes).sum() + bytes;
        if (c.asInt() < 1 || total > STATIC_SHARED_LIMIT) {
            throw t.error("shared array of " + c.asInt() + " elements (" + bytes + " bytes) brings the kernel's shared memory"
                    + " to " + total + " bytes; statically sized shared memory is limited to 48 KiB per block",
                    "use smaller arrays or fewer of them");
        }
        SharedArray array = t.builder().newSharedArray(element, c.asInt());
        t.push(t.emit(Op.SHARED_ADDR, Type.PTR, array));
    }

    private static void shuffle(MethodTranslator t, ShuffleMode mode) {
        Value lane = t.popValue();
        Value value = t.popValue();
        t.pop();
        t.push(t.emitEffect(Op.SHUFFLE, value.type(), mode, value, lane));
    }

    private static void vote(MethodTranslator t, WarpVote vote) {
        Value value = t.popValue();
        t.pop();
        t.push(t.emitEffect(Op.WARP_VOTE, Type.I32, vote, value));
    }

    /** One {@code mma.sync}: its four results become the lanes of a {@code Float4}. */
    private static void mmaBf16(MethodTranslator t) {
        Value[] ab = new Value[6];
        for (int i = 5; i >= 0; i--) {
            ab[i] = t.popValue();
        }
        if (!(t.pop() instanceof JValue.Aggregate c) || c.shape() != VectorShape.FLOAT4) {
            throw t.error("ctx.mmaBf16 needs its accumulator as a Float4 value", "");
        }
        t.pop();
        Value[] operands = new Value[10];
        System.arraycopy(ab, 0, operands, 0, 6);
        System.arraycopy(c.lanes(), 0, operands, 6, 4);
        Value mma = t.emitEffect(Op.MMA_BF16, Type.F32, null, operands);
        Value[] lanes = new Value[4];
        for (int i = 0; i < 4; i++) {
            lanes[i] = t.emit(Op.EXTRACT, Type.F32, i, mma);
        }
        t.push(new JValue.Aggregate(VectorShape.FLOAT4, lanes));
    }

    private static void atomic(MethodTranslator t, String operation, MemType type) {
        Value value = t.popValue();
        Value index = t.popValue();
        Value array = t.popValue();
        t.pop();
        Value addr = t.emit(Op.ELEMENT_ADDR, Type.PTR, type.bytes(), array, index);
        t.push(t.emitEffect(Op.ATOMIC, type.registerType(), new AtomicOp(operation, type), addr, value));
    }
}
