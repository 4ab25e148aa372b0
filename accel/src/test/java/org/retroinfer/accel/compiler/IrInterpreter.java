package org.retroinfer.accel.compiler;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Phaser;
import org.retroinfer.accel.compiler.ir.AtomicOp;
import org.retroinfer.accel.compiler.ir.Block;
import org.retroinfer.accel.compiler.ir.Cond;
import org.retroinfer.accel.compiler.ir.Const;
import org.retroinfer.accel.compiler.ir.Conversion;
import org.retroinfer.accel.compiler.ir.Function;
import org.retroinfer.accel.compiler.ir.Instr;
import org.retroinfer.accel.compiler.ir.MemType;
import org.retroinfer.accel.compiler.ir.Param;
import org.retroinfer.accel.compiler.ir.Phi;
import org.retroinfer.accel.compiler.ir.SharedArray;
import org.retroinfer.accel.compiler.ir.Terminator;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.compiler.ir.Value;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KMath;
import org.retroinfer.accel.kernel.MmaBf16;
import org.retroinfer.accel.kernel.ShuffleMode;
import org.retroinfer.accel.kernel.ThreadIndex;
import org.retroinfer.accel.kernel.TypedArray;

/**
 * Runs the compiler's final IR on the CPU, one virtual thread per GPU thread, so tests can check that the
 * front end and the passes preserve a kernel's meaning: its results must equal the emulator's (which runs
 * the Java method itself). Approximate functions use Java's math here, like the emulator.
 */
final class IrInterpreter {
    private record Ptr(MemorySegment segment, long offset) {
        Ptr plus(long bytes) {
            return new Ptr(segment, offset + bytes);
        }
    }

    private static final Object ATOMICS = new Object();

    private final Function f;
    private final Object[] params;

    private IrInterpreter(Function f, Object[] args) {
        this.f = f;
        this.params = new Object[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = switch (args[i]) {
                case TypedArray t -> new Ptr(t.segment(), 0);
                case float[] a -> new Ptr(MemorySegment.ofArray(a), 0);
                case int[] a -> new Ptr(MemorySegment.ofArray(a), 0);
                case long[] a -> new Ptr(MemorySegment.ofArray(a), 0);
                case double[] a -> new Ptr(MemorySegment.ofArray(a), 0);
                case short[] a -> new Ptr(MemorySegment.ofArray(a), 0);
                case byte[] a -> new Ptr(MemorySegment.ofArray(a), 0);
                default -> args[i];
            };
        }
    }

    /** Runs {@code f} over {@code grid}; {@code args} are the launch arguments (no context). */
    static void run(Function f, Grid grid, Object... args) {
        IrInterpreter in = new IrInterpreter(f, args);
        for (int z = 0; z < grid.gridZ(); z++) {
            for (int y = 0; y < grid.gridY(); y++) {
                for (int x = 0; x < grid.gridX(); x++) {
                    in.runBlock(grid, x, y, z);
                }
            }
        }
    }

    private void runBlock(Grid grid, int gx, int gy, int gz) {
        Map<String, MemorySegment> shared = new HashMap<>();
        Arena arena = Arena.ofAuto();
        for (SharedArray a : f.sharedArrays()) {
            shared.put(a.symbol(), arena.allocate(a.bytes(), 16));
        }
        int threads = grid.threadsPerBlock();
        Phaser barrier = new Phaser(threads);
        int warps = (threads + 31) / 32;
        Phaser[] warpPhasers = new Phaser[warps];
        int[][] warpSlots = new int[warps][32];
        for (int w = 0; w < warps; w++) {
            warpPhasers[w] = new Phaser(Math.min(32, threads - 32 * w));
        }
        List<Thread> running = new ArrayList<>();
        Throwable[] failure = new Throwable[1];
        for (int z = 0; z < grid.blockZ(); z++) {
            for (int y = 0; y < grid.blockY(); y++) {
                for (int x = 0; x < grid.blockX(); x++) {
                    ThreadIndex idx = new ThreadIndex(grid, gx, gy, gz, x, y, z);
                    ThreadState t = new ThreadState(idx, shared, barrier, warpPhasers, warpSlots);
                    running.add(Thread.ofVirtual().start(() -> {
                        try {
                            t.execute();
                        } catch (Throwable e) {
                            synchronized (failure) {
                                failure[0] = e;
                            }
                        } finally {
                            barrier.arriveAndDeregister();
                            warpPhasers[idx.linearLocalId() / 32].arriveAndDeregister();
                        }
                    }));
                }
            }
        }
        for (Thread t : running) {
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        if (failure[0] != null) {
            throw new IllegalStateException("IR interpretation failed: " + failure[0], failure[0]);
        }
    }

    private final class ThreadState {
        private final ThreadIndex idx;
        private final Map<String, MemorySegment> shared;
        private final Phaser barrier;
        private final Phaser[] warpPhasers;
        private final int[][] warpSlots;
        private final Map<Value, Object> env = new HashMap<>();

        ThreadState(ThreadIndex idx, Map<String, MemorySegment> shared, Phaser barrier, Phaser[] warpPhasers, int[][] warpSlots) {
            this.idx = idx;
            this.shared = shared;
            this.barrier = barrier;
            this.warpPhasers = warpPhasers;
            this.warpSlots = warpSlots;
        }

        void execute() {
            for (Param p : f.params()) {
                env.put(p, params[p.ptxIndex()]);
            }
            Block prev = null;
            Block b = f.entry();
            while (true) {
                Object[] phiValues = new Object[b.phis().size()];
                for (int i = 0; i < phiValues.length; i++) {
                    Phi p = b.phis().get(i);
                    Block from = prev;
                    Value in = p.incoming().stream().filter(x -> x.from() == from).findFirst().orElseThrow().value();
                    phiValues[i] = value(in);
                }
                for (int i = 0; i < phiValues.length; i++) {
                    env.put(b.phis().get(i), phiValues[i]);
                }
                for (Instr i : b.instrs()) {
                    env.put(i, eval(i));
                }
                prev = b;
                switch (b.terminator()) {
                    case Terminator.Jump j -> b = j.target();
                    case Terminator.Branch br -> b = (Boolean) value(br.condition()) ? br.ifTrue() : br.ifFalse();
                    case Terminator.Return r -> {
                        return;
                    }
                }
            }
        }

        private Object value(Value v) {
            if (v instanceof Const c) {
                return switch (c.type()) {
                    case I32 -> c.asInt();
                    case I64 -> c.asLong();
                    case F32 -> c.asFloat();
                    case F64 -> c.asDouble();
                    case PRED -> c.asBoolean();
                    case PTR -> throw new IllegalStateException("pointer constant");
                };
            }
            Object o = env.get(v);
            if (o == null && !env.containsKey(v)) {
                throw new IllegalStateException("value used before definition: " + v);
            }
            return o;
        }

        private int i32(Value v) {
            return (Integer) value(v);
        }

        private Object eval(Instr i) {
            List<Value> o = i.operands();
            return switch (i.op()) {
                case ADD, SUB, MUL, DIV, REM, AND, OR, XOR, SHL, SHR, USHR, MIN, MAX -> IrArithmetic.binary(i.op(), i.type(),
                        value(o.get(0)), value(o.get(1)));
                case NEG, ABS, SQRT, RSQRT, EXP, LOG, POPC, CLZ -> IrArithmetic.unary(i.op(), i.type(), value(o.get(0)));
                case FMA -> i.type() == Type.F32 ? (Object) Math.fma((Float) value(o.get(0)), (Float) value(o.get(1)),
                        (Float) value(o.get(2))) : Math.fma((Double) value(o.get(0)), (Double) value(o.get(1)), (Double) value(o.get(2)));
                case CONVERT -> IrArithmetic.convert(i.attribute(Conversion.class), value(o.get(0)));
                case CMP -> IrArithmetic.compare(i.attribute(Cond.class), value(o.get(0)), value(o.get(1)));
                case CMP3 -> IrArithmetic.compare3(value(o.get(0)), value(o.get(1)), i.attribute(Integer.class));
                case IS_NAN -> IrArithmetic.isNaN(value(o.get(0))) || IrArithmetic.isNaN(value(o.get(1)));
                case SELECT -> (Boolean) value(o.get(0)) ? value(o.get(1)) : value(o.get(2));
                case SPECIAL -> special(i.attribute(String.class));
                case ELEMENT_ADDR -> {
                    Object index = value(o.get(1));
                    long n = index instanceof Integer k ? k : (Long) index;
                    yield ((Ptr) value(o.get(0))).plus(n * i.attribute(Integer.class));
                }
                case LOAD -> load((Ptr) value(o.get(0)), i.attribute(MemType.class));
                case STORE -> {
                    store((Ptr) value(o.get(0)), i.attribute(MemType.class), value(o.get(1)));
                    yield null;
                }
                case LOAD_V4 -> {
                    Ptr p = (Ptr) value(o.get(0));
                    Object[] lanes = new Object[4];
                    for (int k = 0; k < 4; k++) {
                        lanes[k] = load(p.plus(4L * k), i.attribute(MemType.class));
                    }
                    yield lanes;
                }
                case EXTRACT -> ((Object[]) value(o.get(0)))[i.attribute(Integer.class)];
                case STORE_V4 -> {
                    Ptr p = (Ptr) value(o.get(0));
                    for (int k = 0; k < 4; k++) {
                        store(p.plus(4L * k), i.attribute(MemType.class), value(o.get(k + 1)));
                    }
                    yield null;
                }
                case ATOMIC -> atomic((Ptr) value(o.get(0)), i.attribute(AtomicOp.class), value(o.get(1)));
                case BARRIER -> {
                    barrier.arriveAndAwaitAdvance();
                    yield null;
                }
                case SHUFFLE -> shuffle(i.attribute(ShuffleMode.class), value(o.get(0)), i32(o.get(1)));
                case WARP_VOTE -> vote(i.attribute(org.retroinfer.accel.compiler.ir.WarpVote.class), i32(o.get(0)));
                case SHARED_ADDR -> new Ptr(shared.get(i.attribute(SharedArray.class).symbol()), 0);
                case TO_GENERIC -> value(o.get(0));
                case PACK_BF16X2 -> KMath.packBf16x2((Float) value(o.get(0)), (Float) value(o.get(1)));
                case DP4A -> KMath.dp4a((Integer) value(o.get(0)), (Integer) value(o.get(1)), (Integer) value(o.get(2)));
                case MMA_BF16 -> mma(o);
            };
        }

        private int special(String register) {
            Grid g = idx.grid();
            return switch (register) {
                case "%tid.x" -> idx.localX();
                case "%tid.y" -> idx.localY();
                case "%tid.z" -> idx.localZ();
                case "%ctaid.x" -> idx.groupX();
                case "%ctaid.y" -> idx.groupY();
                case "%ctaid.z" -> idx.groupZ();
                case "%ntid.x" -> g.blockX();
                case "%ntid.y" -> g.blockY();
                case "%ntid.z" -> g.blockZ();
                case "%nctaid.x" -> g.gridX();
                case "%nctaid.y" -> g.gridY();
                case "%nctaid.z" -> g.gridZ();
                case "%laneid" -> idx.linearLocalId() % 32;
                default -> throw new IllegalStateException("unknown special register " + register);
            };
        }

        /** The warp's multiply-add as {@link org.retroinfer.accel.kernel.KernelContext#mmaBf16} defines it, by shuffles. */
        private Object[] mma(List<Value> o) {
            Float4 d = MmaBf16.multiply(idx.linearLocalId() % 32, (v, lane) -> (Integer) shuffle(ShuffleMode.IDX, v, lane),
                    new Float4((Float) value(o.get(6)), (Float) value(o.get(7)), (Float) value(o.get(8)), (Float) value(o.get(9))),
                    i32(o.get(0)), i32(o.get(1)), i32(o.get(2)), i32(o.get(3)), i32(o.get(4)), i32(o.get(5)));
            return new Object[] {d.x(), d.y(), d.z(), d.w()};
        }

        /** A ballot (lanes whose value is nonzero) or match-any (lanes whose value equals this one's) over the warp. */
        private Object vote(org.retroinfer.accel.compiler.ir.WarpVote vote, int v) {
            int lane = idx.linearLocalId() % 32;
            int warp = idx.linearLocalId() / 32;
            warpSlots[warp][lane] = v;
            warpPhasers[warp].arriveAndAwaitAdvance();
            int mask = 0;
            for (int l = 0; l < 32; l++) {
                boolean in = vote == org.retroinfer.accel.compiler.ir.WarpVote.BALLOT ? warpSlots[warp][l] != 0 : warpSlots[warp][l] == v;
                mask |= (in ? 1 : 0) << l;
            }
            warpPhasers[warp].arriveAndAwaitAdvance();
            return mask;
        }

        private Object shuffle(ShuffleMode mode, Object v, int b) {
            int lane = idx.linearLocalId() % 32;
            int warp = idx.linearLocalId() / 32;
            int bits = v instanceof Float x ? Float.floatToRawIntBits(x) : (Integer) v;
            warpSlots[warp][lane] = bits;
            warpPhasers[warp].arriveAndAwaitAdvance();
            int src = switch (mode) {
                case DOWN -> lane + b;
                case UP -> lane - b;
                case XOR -> lane ^ b;
                case IDX -> b & 31;
            };
            int r = src >= 0 && src < 32 ? warpSlots[warp][src] : bits;
            warpPhasers[warp].arriveAndAwaitAdvance();
            return v instanceof Float ? (Object) Float.intBitsToFloat(r) : r;
        }
    }

    private static Object load(Ptr p, MemType t) {
        MemorySegment s = p.segment();
        long o = p.offset();
        return switch (t) {
            case S8 -> (int) s.get(JAVA_BYTE, o);
            case U8 -> s.get(JAVA_BYTE, o) & 0xFF;
            case S16 -> (int) s.get(JAVA_SHORT_UNALIGNED, o);
            case U16 -> s.get(JAVA_SHORT_UNALIGNED, o) & 0xFFFF;
            case I32 -> s.get(JAVA_INT_UNALIGNED, o);
            case F32 -> s.get(JAVA_FLOAT_UNALIGNED, o);
            case I64 -> s.get(JAVA_LONG_UNALIGNED, o);
            case F64 -> s.get(JAVA_DOUBLE_UNALIGNED, o);
        };
    }

    private static void store(Ptr p, MemType t, Object v) {
        MemorySegment s = p.segment();
        long o = p.offset();
        switch (t) {
            case S8, U8 -> s.set(JAVA_BYTE, o, (byte) (int) (Integer) v);
            case S16, U16 -> s.set(JAVA_SHORT_UNALIGNED, o, (short) (int) (Integer) v);
            case I32 -> s.set(JAVA_INT_UNALIGNED, o, (Integer) v);
            case F32 -> s.set(JAVA_FLOAT_UNALIGNED, o, (Float) v);
            case I64 -> s.set(JAVA_LONG_UNALIGNED, o, (Long) v);
            case F64 -> s.set(JAVA_DOUBLE_UNALIGNED, o, (Double) v);
        }
    }

    private static Object atomic(Ptr p, AtomicOp a, Object v) {
        synchronized (ATOMICS) {
            Object old = load(p, a.type());
            Object updated = switch (a.operation()) {
                case "add" -> a.type() == MemType.F32 ? (Object) ((Float) old + (Float) v) : (Integer) old + (Integer) v;
                case "max" -> Math.max((Integer) old, (Integer) v);
                default -> throw new IllegalStateException(a.operation());
            };
            store(p, a.type(), updated);
            return old;
        }
    }
}
