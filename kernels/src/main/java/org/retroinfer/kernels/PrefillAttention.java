package org.retroinfer.kernels;

import static org.retroinfer.kernels.VectorSupport.FLOAT;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Flash attention (Dao et al. 2022, online softmax) for a block of consecutive query rows of one
 * KV head: every row's GQA group of query heads, {@code rows × group} query vectors in all,
 * attends to runs of F16 or BF16 keys and values that are read and converted to F32 once per tile
 * of {@value #TILE} keys for the whole block, where attention one row at a time streams and
 * converts every key and value once per row.
 *
 * <p>A block's rows are cut into sub-blocks of {@value #SUB_BLOCK_QUERIES} query vectors, each
 * with its own softmax state, which all use each converted tile while it is in L1. Per tile each
 * sub-block computes the (keys × query vectors) score matrix with query vectors in the lanes: the queries are transposed once per block ({@code q^T}, dimension-major and scaled
 * by the softmax temperature), so each score vector is Σ_i k[t][i]·q^T[i][lanes], an FMA of a
 * broadcast key coordinate into a vector of queries, and needs no horizontal sum; a 4 × 4 block
 * of such accumulators (4 keys × 4 query vectors) is 16 independent FMA chains. The running max
 * and sum of the online softmax are then plain vectors too. The probability-weighted values are
 * added into an F32 output of (query vectors × head dimension) with the head dimension in the
 * lanes, again in 4 × 4 register blocks (4 queries × 4 vectors of dimensions), where the
 * rescaling by e^(old max − new max) rides on loading the accumulators.
 *
 * <p>Causality: a run of keys carries positions; row j of the block sees positions below
 * {@code visibleToFirstRow + j}. Tiles that every row sees fully are not masked at all; only the
 * tiles on the diagonal set the scores of hidden keys to −∞, and keys no row sees are skipped.
 *
 * <p>An instance is one thread's scratch (about 70 KiB per sub-block and 40 KiB of tiles at head
 * dimension 128), reused from block to block: a block allocates nothing. Use {@link #forThread}; call
 * {@link #begin}, any number of {@code add}s (keys in any order, as softmax does not mind), then
 * {@link #finish}.
 */
public final class PrefillAttention {
    /** Keys converted per tile: 2 × 16 KiB of F32 keys and values at head dimension 128, in L1 beside the block. */
    static final int TILE = 32;
    /**
     * Query vectors of a sub-block: its transposed queries and its output (32 KiB each at head
     * dimension 128) stay close to L1 while the microkernels sweep a tile. Measured at 8K
     * context, 32 ran 30% slower (conversion and softmax are amortised over fewer FMAs) and 128
     * no faster.
     */
    public static final int SUB_BLOCK_QUERIES = 64;
    /**
     * Sub-blocks worth sharing one converted tile: reading and converting a tile is paid once per
     * block; measured at 8K context, 4 sub-blocks ran 7% faster than 1, and 8 no faster than 4.
     */
    public static final int MAX_SUB_BLOCKS = 4;
    private static final int L = FLOAT.length();
    private static final ThreadLocal<PrefillAttention> LOCAL = ThreadLocal.withInitial(PrefillAttention::new);

    private int rows;
    private int group;
    private int headDim;
    /** Head dimension rounded up to whole vectors: the row stride of keys, values and outputs. */
    private int dimPad;
    /** Query vectors: rows × group. */
    private int queries;
    /** Rows per sub-block; the last sub-block may have fewer. */
    private int subRows;
    private int subBlocks;
    /** Query vectors of a sub-block rounded up to whole vectors (lanes); padding lanes hold zero queries. */
    private int lanesPad;

    /** The sub-block the microkernels work on: its rows [firstRow, lastRow], its slices of the arrays below. */
    private int subFirstRow;
    private int subLastRow;
    /** Its query vectors rounded up to the 4 of an output register block. */
    private int subQueries4;
    private int qtBase;
    private int outBase;
    private int laneBase;

    /** q^T·scale per sub-block, [subBlocks][dimPad][lanesPad]. */
    private float[] queriesT = new float[0];
    /** Unnormalised outputs relative to {@link #max}, [subBlocks][lanesPad][dimPad]. */
    private float[] output = new float[0];
    /** Per query vector lane, [subBlocks][lanesPad]: running max and sum of the online softmax. */
    private float[] max = new float[0];
    private float[] sum = new float[0];
    /** e^(old max − new max) of the last tile, per query vector lane. */
    private float[] rescale = new float[0];
    /** The block row of each query vector lane; +∞ for padding lanes, which see every key. */
    private float[] rowOfLane = new float[0];
    private float[] keys = new float[0];
    private float[] values = new float[0];
    /** Scores, then weights, of one tile, [TILE][lanesPad]. */
    private float[] scores = new float[0];

    private PrefillAttention() {}

    /** This thread's block scratch. */
    public static PrefillAttention forThread() {
        return LOCAL.get();
    }

    /** Rows per sub-block for GQA groups of {@code group} query heads: {@value #SUB_BLOCK_QUERIES} query vectors, at least one row. */
    public static int rowsPerSubBlock(int group) {
        return Math.max(1, SUB_BLOCK_QUERIES / group);
    }

    /** Rows of the current block. */
    public int rows() {
        return rows;
    }

    /**
     * Starts a block of {@code rows} rows, cut into sub-blocks of {@link #rowsPerSubBlock} rows
     * (blocks of up to {@link #MAX_SUB_BLOCKS} sub-blocks are the efficient ones): the query
     * vector of row r, head h (h < group) is {@code q[qOff + r·rowStride + h·headDim ..]}.
     */
    public void begin(float[] q, int qOff, int rowStride, int rows, int group, int headDim, float scale) {
        if (rows < 1 || group < 1 || headDim < 1) {
            throw new IllegalArgumentException("a block needs rows, group and headDim >= 1, got " + rows + ", " + group
                    + ", " + headDim);
        }
        this.rows = rows;
        this.group = group;
        this.headDim = headDim;
        this.dimPad = roundUp(headDim, L);
        this.queries = rows * group;
        this.subRows = Math.min(rows, rowsPerSubBlock(group));
        this.subBlocks = (rows + subRows - 1) / subRows;
        this.lanesPad = roundUp(subRows * group, L);
        ensureCapacity();
        Arrays.fill(queriesT, 0, subBlocks * dimPad * lanesPad, 0f);
        Arrays.fill(rowOfLane, 0, subBlocks * lanesPad, Float.POSITIVE_INFINITY);
        for (int j = 0; j < queries; j++) {
            int row = j / group;
            int lane = lane(j);
            int qt = row / subRows * dimPad * lanesPad + lane % lanesPad;
            int src = qOff + row * rowStride + (j % group) * headDim;
            for (int i = 0; i < headDim; i++) {
                queriesT[qt + i * lanesPad] = q[src + i] * scale;
            }
            rowOfLane[lane] = row;
        }
        Arrays.fill(output, 0, subBlocks * lanesPad * dimPad, 0f);
        Arrays.fill(max, 0, subBlocks * lanesPad, Float.NEGATIVE_INFINITY);
        Arrays.fill(sum, 0, subBlocks * lanesPad, 0f);
    }

    /** The lane of query vector j (row j / group, head j % group) in the per-lane arrays. */
    private int lane(int j) {
        int row = j / group;
        return row / subRows * lanesPad + (row % subRows) * group + j % group;
    }

    private void ensureCapacity() {
        int blockFloats = subBlocks * dimPad * lanesPad;
        if (queriesT.length < blockFloats) {
            queriesT = new float[blockFloats];
            output = new float[blockFloats];
        }
        if (max.length < subBlocks * lanesPad) {
            max = new float[subBlocks * lanesPad];
            sum = new float[subBlocks * lanesPad];
            rescale = new float[subBlocks * lanesPad];
            rowOfLane = new float[subBlocks * lanesPad];
        }
        if (scores.length < TILE * lanesPad) {
            scores = new float[TILE * lanesPad];
        }
        // Key and value rows are dimPad apart; their padding is never read into an output that is written.
        if (keys.length < TILE * dimPad) {
            keys = new float[TILE * dimPad];
            values = new float[TILE * dimPad];
        }
    }

    /**
     * Folds in {@code tokens} keys that every row of the block sees: key t starts at byte
     * {@code keysOff + t·headDim·2} of {@code keysData}, its value likewise in {@code valuesData}.
     */
    public void add(MemorySegment keysData, long keysOff, MemorySegment valuesData, long valuesOff, DType type,
                    int tokens) {
        add(keysData, keysOff, valuesData, valuesOff, type, tokens, 0, Long.MAX_VALUE - rows);
    }

    /**
     * As {@link #add(MemorySegment, long, MemorySegment, long, DType, int)} for keys at positions
     * {@code firstPosition + t}, of which row j of the block sees those below
     * {@code visibleToFirstRow + j} (causal attention: row j's own position is
     * {@code visibleToFirstRow − 1 + j}). Keys that no row sees are not read.
     */
    public void add(MemorySegment keysData, long keysOff, MemorySegment valuesData, long valuesOff, DType type,
                    int tokens, long firstPosition, long visibleToFirstRow) {
        requireHalf(type);
        long horizon = visibleToFirstRow + rows - 1;
        int n = (int) Math.max(0, Math.min(tokens, horizon - firstPosition));
        for (int t0 = 0; t0 < n; t0 += TILE) {
            int count = Math.min(TILE, n - t0);
            convert(type, keysData, keysOff + 2L * headDim * t0, count, keys);
            convert(type, valuesData, valuesOff + 2L * headDim * t0, count, values);
            // Row j sees the tile's keys t < firstHidden + j.
            long firstHidden = visibleToFirstRow - (firstPosition + t0);
            for (int sub = 0; sub < subBlocks; sub++) {
                selectSubBlock(sub);
                int seen = (int) Math.min(count, firstHidden + subLastRow);
                if (seen <= 0) {
                    continue;
                }
                scoreTile(seen);
                if (firstHidden + subFirstRow < seen) {
                    mask(seen, firstHidden);
                }
                softmaxTile(seen);
                accumulateTile(seen);
            }
        }
    }

    private void selectSubBlock(int sub) {
        subFirstRow = sub * subRows;
        subLastRow = Math.min(rows, subFirstRow + subRows) - 1;
        subQueries4 = roundUp((subLastRow - subFirstRow + 1) * group, 4);
        qtBase = sub * dimPad * lanesPad;
        outBase = sub * lanesPad * dimPad;
        laneBase = sub * lanesPad;
    }

    /**
     * Writes each query vector's attention output, the weighted sum of values divided by the total
     * weight, to {@code out[outOff + r·rowStride + h·headDim ..]} (the layout of the queries).
     */
    public void finish(float[] out, int outOff, int rowStride) {
        for (int j = 0; j < queries; j++) {
            int dst = outOff + (j / group) * rowStride + (j % group) * headDim;
            int lane = lane(j);
            float inv = 1f / sum[lane];
            int src = lane * dimPad;
            int i = 0;
            for (; i <= headDim - L; i += L) {
                FloatVector.fromArray(FLOAT, output, src + i).mul(inv).intoArray(out, dst + i);
            }
            for (; i < headDim; i++) {
                out[dst + i] = output[src + i] * inv;
            }
        }
    }

    /** Converts {@code count} stored vectors to rows of {@link #dimPad} floats. */
    private void convert(DType type, MemorySegment data, long off, int count, float[] tile) {
        if (dimPad == headDim) {
            Dequantize.row(type, data, off, count * headDim, tile, 0);
        } else {
            for (int t = 0; t < count; t++) {
                Dequantize.row(type, data, off + 2L * headDim * t, headDim, tile, t * dimPad);
            }
        }
    }

    /**
     * scores[t][j] = q^T[·][j] · k_t for the tile's keys, in blocks of 4 keys (a count not a
     * multiple of 4 computes up to 3 scores of stale key rows, which nothing reads).
     */
    private void scoreTile(int count) {
        int vectors = lanesPad / L;
        for (int t = 0; t < count; t += 4) {
            int v = 0;
            for (; v <= vectors - 4; v += 4) {
                scores4x4(t, v * L);
            }
            for (; v < vectors; v++) {
                scores4x1(t, v * L);
            }
        }
    }

    /** Scores of 4 keys against 4 vectors of queries: 16 independent FMA chains along the head dimension. */
    private void scores4x4(int t, int lane) {
        int k0 = t * dimPad, k1 = k0 + dimPad, k2 = k1 + dimPad, k3 = k2 + dimPad;
        FloatVector a00 = FloatVector.zero(FLOAT), a01 = FloatVector.zero(FLOAT);
        FloatVector a02 = FloatVector.zero(FLOAT), a03 = FloatVector.zero(FLOAT);
        FloatVector a10 = FloatVector.zero(FLOAT), a11 = FloatVector.zero(FLOAT);
        FloatVector a12 = FloatVector.zero(FLOAT), a13 = FloatVector.zero(FLOAT);
        FloatVector a20 = FloatVector.zero(FLOAT), a21 = FloatVector.zero(FLOAT);
        FloatVector a22 = FloatVector.zero(FLOAT), a23 = FloatVector.zero(FLOAT);
        FloatVector a30 = FloatVector.zero(FLOAT), a31 = FloatVector.zero(FLOAT);
        FloatVector a32 = FloatVector.zero(FLOAT), a33 = FloatVector.zero(FLOAT);
        float[] qt = queriesT;
        float[] k = keys;
        int stride = lanesPad;
        for (int i = 0, q = qtBase + lane; i < headDim; i++, q += stride) {
            FloatVector q0 = FloatVector.fromArray(FLOAT, qt, q);
            FloatVector q1 = FloatVector.fromArray(FLOAT, qt, q + L);
            FloatVector q2 = FloatVector.fromArray(FLOAT, qt, q + 2 * L);
            FloatVector q3 = FloatVector.fromArray(FLOAT, qt, q + 3 * L);
            FloatVector key = FloatVector.broadcast(FLOAT, k[k0 + i]);
            a00 = q0.fma(key, a00);
            a01 = q1.fma(key, a01);
            a02 = q2.fma(key, a02);
            a03 = q3.fma(key, a03);
            key = FloatVector.broadcast(FLOAT, k[k1 + i]);
            a10 = q0.fma(key, a10);
            a11 = q1.fma(key, a11);
            a12 = q2.fma(key, a12);
            a13 = q3.fma(key, a13);
            key = FloatVector.broadcast(FLOAT, k[k2 + i]);
            a20 = q0.fma(key, a20);
            a21 = q1.fma(key, a21);
            a22 = q2.fma(key, a22);
            a23 = q3.fma(key, a23);
            key = FloatVector.broadcast(FLOAT, k[k3 + i]);
            a30 = q0.fma(key, a30);
            a31 = q1.fma(key, a31);
            a32 = q2.fma(key, a32);
            a33 = q3.fma(key, a33);
        }
        int s = t * stride + lane;
        a00.intoArray(scores, s);
        a01.intoArray(scores, s + L);
        a02.intoArray(scores, s + 2 * L);
        a03.intoArray(scores, s + 3 * L);
        s += stride;
        a10.intoArray(scores, s);
        a11.intoArray(scores, s + L);
        a12.intoArray(scores, s + 2 * L);
        a13.intoArray(scores, s + 3 * L);
        s += stride;
        a20.intoArray(scores, s);
        a21.intoArray(scores, s + L);
        a22.intoArray(scores, s + 2 * L);
        a23.intoArray(scores, s + 3 * L);
        s += stride;
        a30.intoArray(scores, s);
        a31.intoArray(scores, s + L);
        a32.intoArray(scores, s + 2 * L);
        a33.intoArray(scores, s + 3 * L);
    }

    /** Scores of 4 keys against one vector of queries: the rest of a block that is not a multiple of 4 vectors. */
    private void scores4x1(int t, int lane) {
        int k0 = t * dimPad, k1 = k0 + dimPad, k2 = k1 + dimPad, k3 = k2 + dimPad;
        FloatVector a0 = FloatVector.zero(FLOAT), a1 = FloatVector.zero(FLOAT);
        FloatVector a2 = FloatVector.zero(FLOAT), a3 = FloatVector.zero(FLOAT);
        float[] qt = queriesT;
        float[] k = keys;
        int stride = lanesPad;
        for (int i = 0, q = qtBase + lane; i < headDim; i++, q += stride) {
            FloatVector q0 = FloatVector.fromArray(FLOAT, qt, q);
            a0 = q0.fma(FloatVector.broadcast(FLOAT, k[k0 + i]), a0);
            a1 = q0.fma(FloatVector.broadcast(FLOAT, k[k1 + i]), a1);
            a2 = q0.fma(FloatVector.broadcast(FLOAT, k[k2 + i]), a2);
            a3 = q0.fma(FloatVector.broadcast(FLOAT, k[k3 + i]), a3);
        }
        int s = t * stride + lane;
        a0.intoArray(scores, s);
        a1.intoArray(scores, s + stride);
        a2.intoArray(scores, s + 2 * stride);
        a3.intoArray(scores, s + 3 * stride);
    }

    /**
     * Hides key t of the tile from the rows that may not see it: row j sees it where
     * t < firstHidden + j, that is, where j > t − firstHidden.
     */
    private void mask(int count, long firstHidden) {
        int vectors = lanesPad / L;
        for (int t = (int) Math.max(0, firstHidden); t < count; t++) {
            float lastHidingRow = t - firstHidden;
            for (int v = 0; v < vectors; v++) {
                int s = t * lanesPad + v * L;
                FloatVector row = FloatVector.fromArray(FLOAT, rowOfLane, laneBase + v * L);
                FloatVector.fromArray(FLOAT, scores, s)
                        .blend(Float.NEGATIVE_INFINITY, row.compare(VectorOperators.LE, lastHidingRow))
                        .intoArray(scores, s);
            }
        }
    }

    /**
     * The online softmax step of every query vector over the tile: new running max, weights
     * e^(score − max) in place of the scores, the running sum rescaled and extended, and the
     * factor that rescales the output accumulated so far.
     */
    private void softmaxTile(int count) {
        for (int lane = 0; lane < lanesPad; lane += L) {
            FloatVector tileMax = FloatVector.broadcast(FLOAT, Float.NEGATIVE_INFINITY);
            for (int t = 0, s = lane; t < count; t++, s += lanesPad) {
                tileMax = tileMax.max(FloatVector.fromArray(FLOAT, scores, s));
            }
            FloatVector oldMax = FloatVector.fromArray(FLOAT, max, laneBase + lane);
            FloatVector newMax = oldMax.max(tileMax);
            // A lane that has seen no key yet keeps max −∞; shifting by 0 there gives weights 0, not NaN.
            FloatVector shift = newMax.blend(0f, newMax.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY));
            FloatVector factor = oldMax.sub(shift).lanewise(VectorOperators.EXP);
            FloatVector total = FloatVector.fromArray(FLOAT, sum, laneBase + lane).mul(factor);
            for (int t = 0, s = lane; t < count; t++, s += lanesPad) {
                FloatVector w = FloatVector.fromArray(FLOAT, scores, s).sub(shift).lanewise(VectorOperators.EXP);
                w.intoArray(scores, s);
                total = total.add(w);
            }
            newMax.intoArray(max, laneBase + lane);
            total.intoArray(sum, laneBase + lane);
            factor.intoArray(rescale, laneBase + lane);
        }
    }

    /** output[j] = output[j]·rescale[j] + Σ_t weight[t][j]·v_t for the tile's keys. */
    private void accumulateTile(int count) {
        int vectors = dimPad / L;
        for (int j = 0; j < subQueries4; j += 4) {
            int v = 0;
            for (; v <= vectors - 4; v += 4) {
                accumulate4x4(count, j, v * L);
            }
            for (; v < vectors; v++) {
                accumulate4x1(count, j, v * L);
            }
        }
    }

    /** Outputs of 4 query vectors, 4 vectors of dimensions from {@code i}: 16 independent FMA chains over the keys. */
    private void accumulate4x4(int count, int j, int i) {
        int o0 = outBase + j * dimPad + i, o1 = o0 + dimPad, o2 = o1 + dimPad, o3 = o2 + dimPad;
        float[] out = output;
        int r0 = laneBase + j;
        FloatVector r = FloatVector.broadcast(FLOAT, rescale[r0]);
        FloatVector a00 = FloatVector.fromArray(FLOAT, out, o0).mul(r);
        FloatVector a01 = FloatVector.fromArray(FLOAT, out, o0 + L).mul(r);
        FloatVector a02 = FloatVector.fromArray(FLOAT, out, o0 + 2 * L).mul(r);
        FloatVector a03 = FloatVector.fromArray(FLOAT, out, o0 + 3 * L).mul(r);
        r = FloatVector.broadcast(FLOAT, rescale[r0 + 1]);
        FloatVector a10 = FloatVector.fromArray(FLOAT, out, o1).mul(r);
        FloatVector a11 = FloatVector.fromArray(FLOAT, out, o1 + L).mul(r);
        FloatVector a12 = FloatVector.fromArray(FLOAT, out, o1 + 2 * L).mul(r);
        FloatVector a13 = FloatVector.fromArray(FLOAT, out, o1 + 3 * L).mul(r);
        r = FloatVector.broadcast(FLOAT, rescale[r0 + 2]);
        FloatVector a20 = FloatVector.fromArray(FLOAT, out, o2).mul(r);
        FloatVector a21 = FloatVector.fromArray(FLOAT, out, o2 + L).mul(r);
        FloatVector a22 = FloatVector.fromArray(FLOAT, out, o2 + 2 * L).mul(r);
        FloatVector a23 = FloatVector.fromArray(FLOAT, out, o2 + 3 * L).mul(r);
        r = FloatVector.broadcast(FLOAT, rescale[r0 + 3]);
        FloatVector a30 = FloatVector.fromArray(FLOAT, out, o3).mul(r);
        FloatVector a31 = FloatVector.fromArray(FLOAT, out, o3 + L).mul(r);
        FloatVector a32 = FloatVector.fromArray(FLOAT, out, o3 + 2 * L).mul(r);
        FloatVector a33 = FloatVector.fromArray(FLOAT, out, o3 + 3 * L).mul(r);
        float[] w = scores;
        float[] val = values;
        int stride = lanesPad;
        for (int t = 0, p = j, v = i; t < count; t++, p += stride, v += dimPad) {
            FloatVector v0 = FloatVector.fromArray(FLOAT, val, v);
            FloatVector v1 = FloatVector.fromArray(FLOAT, val, v + L);
            FloatVector v2 = FloatVector.fromArray(FLOAT, val, v + 2 * L);
            FloatVector v3 = FloatVector.fromArray(FLOAT, val, v + 3 * L);
            FloatVector weight = FloatVector.broadcast(FLOAT, w[p]);
            a00 = v0.fma(weight, a00);
            a01 = v1.fma(weight, a01);
            a02 = v2.fma(weight, a02);
            a03 = v3.fma(weight, a03);
            weight = FloatVector.broadcast(FLOAT, w[p + 1]);
            a10 = v0.fma(weight, a10);
            a11 = v1.fma(weight, a11);
            a12 = v2.fma(weight, a12);
            a13 = v3.fma(weight, a13);
            weight = FloatVector.broadcast(FLOAT, w[p + 2]);
            a20 = v0.fma(weight, a20);
            a21 = v1.fma(weight, a21);
            a22 = v2.fma(weight, a22);
            a23 = v3.fma(weight, a23);
            weight = FloatVector.broadcast(FLOAT, w[p + 3]);
            a30 = v0.fma(weight, a30);
            a31 = v1.fma(weight, a31);
            a32 = v2.fma(weight, a32);
            a33 = v3.fma(weight, a33);
        }
        a00.intoArray(out, o0);
        a01.intoArray(out, o0 + L);
        a02.intoArray(out, o0 + 2 * L);
        a03.intoArray(out, o0 + 3 * L);
        a10.intoArray(out, o1);
        a11.intoArray(out, o1 + L);
        a12.intoArray(out, o1 + 2 * L);
        a13.intoArray(out, o1 + 3 * L);
        a20.intoArray(out, o2);
        a21.intoArray(out, o2 + L);
        a22.intoArray(out, o2 + 2 * L);
        a23.intoArray(out, o2 + 3 * L);
        a30.intoArray(out, o3);
        a31.intoArray(out, o3 + L);
        a32.intoArray(out, o3 + 2 * L);
        a33.intoArray(out, o3 + 3 * L);
    }

    /** Outputs of 4 query vectors, one vector of dimensions: the rest of a head dimension not a multiple of 4 vectors. */
    private void accumulate4x1(int count, int j, int i) {
        int o0 = outBase + j * dimPad + i, o1 = o0 + dimPad, o2 = o1 + dimPad, o3 = o2 + dimPad;
        float[] out = output;
        int r0 = laneBase + j;
        FloatVector a0 = FloatVector.fromArray(FLOAT, out, o0).mul(rescale[r0]);
        FloatVector a1 = FloatVector.fromArray(FLOAT, out, o1).mul(rescale[r0 + 1]);
        FloatVector a2 = FloatVector.fromArray(FLOAT, out, o2).mul(rescale[r0 + 2]);
        FloatVector a3 = FloatVector.fromArray(FLOAT, out, o3).mul(rescale[r0 + 3]);
        float[] w = scores;
        float[] val = values;
        int stride = lanesPad;
        for (int t = 0, p = j, v = i; t < count; t++, p += stride, v += dimPad) {
            FloatVector value = FloatVector.fromArray(FLOAT, val, v);
            a0 = value.fma(FloatVector.broadcast(FLOAT, w[p]), a0);
            a1 = value.fma(FloatVector.broadcast(FLOAT, w[p + 1]), a1);
            a2 = value.fma(FloatVector.broadcast(FLOAT, w[p + 2]), a2);
            a3 = value.fma(FloatVector.broadcast(FLOAT, w[p + 3]), a3);
        }
        a0.intoArray(out, o0);
        a1.intoArray(out, o1);
        a2.intoArray(out, o2);
        a3.intoArray(out, o3);
    }

    private static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    private static void requireHalf(DType type) {
        if (type != DType.F16 && type != DType.BF16) {
            throw new IllegalArgumentException("attention keys and values are stored as F16 or BF16, got " + type);
        }
    }
}
