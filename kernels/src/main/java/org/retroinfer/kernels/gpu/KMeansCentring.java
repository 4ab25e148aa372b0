package org.retroinfer.kernels.gpu;

import static org.retroinfer.kernels.gpu.DecodeAttentionShape.HEAD_DIM;
import static org.retroinfer.kernels.gpu.KMeansShape.CENTRE_CHUNK;

import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.HalfPrecisionArray;
import org.retroinfer.accel.kernel.Kernel;
import org.retroinfer.accel.kernel.KernelContext;

/**
 * The first step of an index build (spec §1.1): one head's keys, read from the 16-bit dense cache where the
 * prefill left them, minus their mean, as the F32 keys the k-means works on ({@link KMeansShape} gives the
 * layout). The k-means reads every key once per iteration, ten times, so it gets them centred and in F32
 * once rather than converting 16-bit keys in every pass.
 *
 * <p>Two launches on {@link KMeansShape#centreGrid()} (a block of one thread per dimension per chunk of
 * {@link KMeansShape#CENTRE_CHUNK} keys; a block's 128 threads read one 256-byte key at a time): the chunks'
 * sums, then every block adds up the chunk sums in chunk order (the same mean in every block, so the result
 * does not depend on scheduling) and writes its chunk's centred keys. The sum is in F32, as the CPU's, but
 * grouped by chunks and by four interleaved chains per chunk, so the mean can differ from the CPU's by F32 rounding
 * (it is equal whenever the sums are exact).
 *
 * <p>Several heads build at once along the grid's y dimension ({@link KMeansShape#stacked}): head h's keys start
 * {@code h · headStride} elements after {@code base}, and its partials, mean and centred keys follow head h − 1's.
 */
public final class KMeansCentring {
    private KMeansCentring() {}

    /**
     * {@code partials[head][chunk][d]} = Σ of dimension d over the chunk's keys (an F16 or BF16 cache); the grid's
     * x dimension is the chunks.
     */
    @Kernel
    public static void keySums(KernelContext ctx, HalfPrecisionArray keys, long base, long headStride, int tokens,
            F32Array partials) {
        int from = ctx.groupIdx * CENTRE_CHUNK;
        int to = Math.min(tokens, from + CENTRE_CHUNK);
        // four chains, so that four loads are in flight rather than one
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        long at = base + ctx.groupIdy * headStride + (long) from * HEAD_DIM + ctx.localIdx;
        int t = from;
        for (; t + 3 < to; t += 4, at += 4 * HEAD_DIM) {
            s0 += keys.get(at);
            s1 += keys.get(at + HEAD_DIM);
            s2 += keys.get(at + 2 * HEAD_DIM);
            s3 += keys.get(at + 3 * HEAD_DIM);
        }
        for (; t < to; t++, at += HEAD_DIM) {
            s0 += keys.get(at);
        }
        partials.set(((long) ctx.groupIdy * ctx.numGroupsX + ctx.groupIdx) * HEAD_DIM + ctx.localIdx, (s0 + s1) + (s2 + s3));
    }

    /**
     * {@code centred[head][t][d] = key[t][d] − mean[head][d]} for the block's chunk, with mean = (Σ of the head's
     * {@code chunks} partial sums) / tokens; block 0 of a head also writes its mean (an F16 or BF16 cache).
     */
    @Kernel
    public static void centre(KernelContext ctx, HalfPrecisionArray keys, long base, long headStride, int tokens,
            F32Array partials, int chunks, F32Array mean, F32Array centred) {
        int d = ctx.localIdx;
        int head = ctx.groupIdy;
        float m = mean(ctx, partials, (long) head * chunks * HEAD_DIM, chunks, tokens, mean, (long) head * HEAD_DIM);
        long keyBase = base + head * headStride;
        long centredBase = (long) head * tokens * HEAD_DIM;
        int from = ctx.groupIdx * CENTRE_CHUNK;
        int to = Math.min(tokens, from + CENTRE_CHUNK);
        int t = from;
        for (; t + 3 < to; t += 4) { // four loads issued before the stores, which could alias them
            long at = (long) t * HEAD_DIM + d;
            float k0 = keys.get(keyBase + at);
            float k1 = keys.get(keyBase + at + HEAD_DIM);
            float k2 = keys.get(keyBase + at + 2 * HEAD_DIM);
            float k3 = keys.get(keyBase + at + 3 * HEAD_DIM);
            centred.set(centredBase + at, k0 - m);
            centred.set(centredBase + at + HEAD_DIM, k1 - m);
            centred.set(centredBase + at + 2 * HEAD_DIM, k2 - m);
            centred.set(centredBase + at + 3 * HEAD_DIM, k3 - m);
        }
        for (; t < to; t++) {
            long at = (long) t * HEAD_DIM + d;
            centred.set(centredBase + at, keys.get(keyBase + at) - m);
        }
    }

    /** This thread's dimension of the head's mean key, as the CPU divides: the F32 sum over the F32 count. */
    private static float mean(KernelContext ctx, F32Array partials, long partialsBase, int chunks, int tokens, F32Array mean,
            long meanBase) {
        int d = ctx.localIdx;
        float sum = 0f;
        for (int c = 0; c < chunks; c++) {
            sum += partials.get(partialsBase + (long) c * HEAD_DIM + d);
        }
        float m = sum / tokens;
        if (ctx.groupIdx == 0) {
            mean.set(meanBase + d, m);
        }
        return m;
    }
}
