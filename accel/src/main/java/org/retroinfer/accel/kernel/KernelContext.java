package org.retroinfer.accel.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A GPU thread's view of the launch, with TornadoVM's {@code KernelContext} names so that kernels port
 * easily: thread ids ({@code globalIdx}, {@code localIdx}, {@code groupIdx} and their y/z twins), block
 * and grid sizes, block barriers, shared ("local") arrays, warp shuffles, votes and reductions, and atomics.
 *
 * <p>On the GPU every field read and method call is replaced by the compiler (special registers,
 * {@code bar.sync}, {@code .shared} arrays, {@code shfl.sync}, {@code vote.sync}, {@code match.sync}, {@code atom}); the
 * Java bodies below are the semantics the CPU emulator runs, one context per thread.
 *
 * <p>Rules the GPU imposes and the emulator checks: every thread of a block that has not returned must
 * reach the same {@link #localBarrier()}; all 32 lanes of a warp must take part in each shuffle and vote;
 * shared-array sizes must be compile-time constants (literals, {@code static final} constants or
 * expressions of {@link Constant} parameters); there is no barrier across blocks (split the work into
 * two kernels instead).
 */
public final class KernelContext {
    /** Threads per warp on every NVIDIA GPU this project targets. */
    public static final int WARP_SIZE = 32;

    private static final VarHandle FLOATS = MethodHandles.arrayElementVarHandle(float[].class);
    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);

    /** {@code groupIdx * localGroupSizeX + localIdx}: the thread's index in the whole grid, x dimension. */
    public final int globalIdx;
    public final int globalIdy;
    public final int globalIdz;
    /** The thread's index inside its block (CUDA {@code threadIdx}). */
    public final int localIdx;
    public final int localIdy;
    public final int localIdz;
    /** The block's index in the grid (CUDA {@code blockIdx}). */
    public final int groupIdx;
    public final int groupIdy;
    public final int groupIdz;
    /** Threads per block (CUDA {@code blockDim}). */
    public final int localGroupSizeX;
    public final int localGroupSizeY;
    public final int localGroupSizeZ;
    /** Threads in the whole grid (CUDA {@code gridDim * blockDim}): the stride of a grid-stride loop. */
    public final int globalGroupSizeX;
    public final int globalGroupSizeY;
    public final int globalGroupSizeZ;
    /** Blocks in the grid (CUDA {@code gridDim}). */
    public final int numGroupsX;
    public final int numGroupsY;
    public final int numGroupsZ;
    /** The thread's lane in its warp, 0 to 31. */
    public final int laneId;
    /** The warp's index in its block (threads are grouped into warps in x-fastest order). */
    public final int warpId;

    private final ThreadIndex index;
    private final BlockScope scope;

    /** Used by the CPU emulator to create one context per emulated thread. */
    public KernelContext(ThreadIndex index, BlockScope scope) {
        Grid g = index.grid();
        this.index = index;
        this.scope = scope;
        localIdx = index.localX();
        localIdy = index.localY();
        localIdz = index.localZ();
        groupIdx = index.groupX();
        groupIdy = index.groupY();
        groupIdz = index.groupZ();
        localGroupSizeX = g.blockX();
        localGroupSizeY = g.blockY();
        localGroupSizeZ = g.blockZ();
        numGroupsX = g.gridX();
        numGroupsY = g.gridY();
        numGroupsZ = g.gridZ();
        globalIdx = groupIdx * localGroupSizeX + localIdx;
        globalIdy = groupIdy * localGroupSizeY + localIdy;
        globalIdz = groupIdz * localGroupSizeZ + localIdz;
        globalGroupSizeX = numGroupsX * localGroupSizeX;
        globalGroupSizeY = numGroupsY * localGroupSizeY;
        globalGroupSizeZ = numGroupsZ * localGroupSizeZ;
        laneId = index.linearLocalId() % WARP_SIZE;
        warpId = index.linearLocalId() / WARP_SIZE;
    }

    /** Host side only (the emulator): where this thread sits. Kernels use the fields. */
    public ThreadIndex index() {
        return index;
    }

    /** Block barrier ({@code bar.sync 0}): shared-array writes before it are visible to the block after it. */
    public void localBarrier() {
        scope.barrier(this);
    }

    /** A {@code float} array shared by the block ({@code .shared}); {@code size} must be a compile-time constant. */
    public float[] allocateFloatLocalArray(int size) {
        return (float[]) scope.sharedArray(this, float[].class, size);
    }

    /** An {@code int} array shared by the block; {@code size} must be a compile-time constant. */
    public int[] allocateIntLocalArray(int size) {
        return (int[]) scope.sharedArray(this, int[].class, size);
    }

    /**
     * A shared array of IEEE half floats, stored as their 16 bits in a {@code short[]} (read and write them
     * with {@link KMath#f16ToFloat} and {@link KMath#floatToF16}).
     */
    public short[] allocateHalfFloatLocalArray(int size) {
        return (short[]) scope.sharedArray(this, short[].class, size);
    }

    /** The value of lane {@code laneId + delta}; the top {@code delta} lanes get their own value. */
    public float shuffleDown(float value, int delta) {
        return Float.intBitsToFloat(scope.shuffle(this, ShuffleMode.DOWN, Float.floatToRawIntBits(value), delta));
    }

    public int shuffleDown(int value, int delta) {
        return scope.shuffle(this, ShuffleMode.DOWN, value, delta);
    }

    /** The value of lane {@code laneId - delta}; the bottom {@code delta} lanes get their own value. */
    public float shuffleUp(float value, int delta) {
        return Float.intBitsToFloat(scope.shuffle(this, ShuffleMode.UP, Float.floatToRawIntBits(value), delta));
    }

    public int shuffleUp(int value, int delta) {
        return scope.shuffle(this, ShuffleMode.UP, value, delta);
    }

    /** The value of lane {@code laneId ^ laneMask} (butterfly exchange). */
    public float shuffleXor(float value, int laneMask) {
        return Float.intBitsToFloat(scope.shuffle(this, ShuffleMode.XOR, Float.floatToRawIntBits(value), laneMask));
    }

    public int shuffleXor(int value, int laneMask) {
        return scope.shuffle(this, ShuffleMode.XOR, value, laneMask);
    }

    /** The value of lane {@code srcLane} (a broadcast when every lane passes the same lane). */
    public float shuffleIdx(float value, int srcLane) {
        return Float.intBitsToFloat(scope.shuffle(this, ShuffleMode.IDX, Float.floatToRawIntBits(value), srcLane));
    }

    public int shuffleIdx(int value, int srcLane) {
        return scope.shuffle(this, ShuffleMode.IDX, value, srcLane);
    }

    /** The sum over the 32 lanes of the warp, returned to every lane (butterfly of five shuffles). */
    public float warpSum(float value) {
        float v = value;
        for (int mask = WARP_SIZE / 2; mask > 0; mask >>= 1) {
            v += shuffleXor(v, mask);
        }
        return v;
    }

    public int warpSum(int value) {
        int v = value;
        for (int mask = WARP_SIZE / 2; mask > 0; mask >>= 1) {
            v += shuffleXor(v, mask);
        }
        return v;
    }

    /** The maximum over the warp (NaN if any lane holds NaN, as {@link Math#max(float, float)}). */
    public float warpMax(float value) {
        float v = value;
        for (int mask = WARP_SIZE / 2; mask > 0; mask >>= 1) {
            v = Math.max(v, shuffleXor(v, mask));
        }
        return v;
    }

    public float warpMin(float value) {
        float v = value;
        for (int mask = WARP_SIZE / 2; mask > 0; mask >>= 1) {
            v = Math.min(v, shuffleXor(v, mask));
        }
        return v;
    }

    public int warpMax(int value) {
        int v = value;
        for (int mask = WARP_SIZE / 2; mask > 0; mask >>= 1) {
            v = Math.max(v, shuffleXor(v, mask));
        }
        return v;
    }

    /**
     * The warp's lanes whose {@code flag} holds, bit l for lane l ({@code vote.sync.ballot}): with {@link Integer#bitCount}
     * of the lanes below, a lane's rank among them. All 32 lanes must call it together, as with a shuffle.
     */
    public int ballot(boolean flag) {
        int[] all = scope.gather(this, new int[] {flag ? 1 : 0});
        int mask = 0;
        for (int lane = 0; lane < WARP_SIZE; lane++) {
            mask |= all[lane] << lane;
        }
        return mask;
    }

    /**
     * The warp's lanes that hold the same {@code value} as this one, bit l for lane l ({@code match.any.sync}): lanes that
     * would update the same counter can add their number once. All 32 lanes must call it together.
     */
    public int matchAny(int value) {
        int[] all = scope.gather(this, new int[] {value});
        int mask = 0;
        for (int lane = 0; lane < WARP_SIZE; lane++) {
            mask |= (all[lane] == value ? 1 : 0) << lane;
        }
        return mask;
    }

    /** TornadoVM's name for {@link #shuffleDown(float, int)}. */
    public float simdShuffleDown(float value, int delta) {
        return shuffleDown(value, delta);
    }

    /** TornadoVM's name for {@link #warpSum(float)}. */
    public float simdSum(float value) {
        return warpSum(value);
    }

    /** TornadoVM's name for {@code shuffleIdx(value, 0)}. */
    public float simdBroadcastFirst(float value) {
        return shuffleIdx(value, 0);
    }

    /**
     * The warp's tensor-core multiply-add {@code D = A · B + C} of a 16 × 16 bfloat16 A, a 16 × 8 bfloat16 B and a
     * 16 × 8 float C, each spread over the 32 lanes as {@link MmaBf16} lays out; returns this lane's four values of
     * D. All 32 lanes must call it together, as with a shuffle. On the GPU one {@code mma.sync}; here the lanes
     * exchange their fragments in one {@link BlockScope#gather}.
     */
    public Float4 mmaBf16(Float4 c, int a0, int a1, int a2, int a3, int b0, int b1) {
        return MmaBf16.multiply(laneId, scope.gather(this, new int[] {a0, a1, a2, a3, b0, b1}), c);
    }

    /** Atomically adds {@code value} to {@code array[index]} (global or shared) and returns the old value. */
    public float atomicAdd(float[] array, int index, float value) {
        return (float) FLOATS.getAndAdd(array, index, value);
    }

    public int atomicAdd(int[] array, int index, int value) {
        return (int) INTS.getAndAdd(array, index, value);
    }

    public float atomicAdd(F32Array array, long index, float value) {
        return array.getAndAddAtomically(index, value);
    }

    public int atomicAdd(I32Array array, long index, int value) {
        return array.getAndAddAtomically(index, value);
    }

    /** Atomically stores the larger of {@code array[index]} and {@code value}; returns the old value. */
    public int atomicMax(int[] array, int index, int value) {
        int old = (int) INTS.getVolatile(array, index);
        while (old < value && !INTS.compareAndSet(array, index, old, value)) {
            old = (int) INTS.getVolatile(array, index);
        }
        return old;
    }

    public int atomicMax(I32Array array, long index, int value) {
        return array.getAndMaxAtomically(index, value);
    }
}
