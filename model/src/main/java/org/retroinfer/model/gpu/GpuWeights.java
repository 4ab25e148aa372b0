package org.retroinfer.model.gpu;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.BF16Array;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.F16Array;
import org.retroinfer.accel.kernel.Grid;
import org.retroinfer.accel.kernel.KernelMethod;
import org.retroinfer.kernels.gpu.DecodeLayerShape;
import org.retroinfer.kernels.gpu.RandomFill;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.TypedArray;
import org.retroinfer.kernels.WeightMatrix;
import org.retroinfer.model.transformer.LayerWeights;
import org.retroinfer.model.transformer.ModelWeights;

/**
 * A model's weights copied to a device once, in the checkpoint's own types: matrices stay BF16, F16 or F32 (what
 * {@link org.retroinfer.kernels.gpu.LinearShape}'s kernels multiply), norms and biases become F32 arrays. A tied LM
 * head is the embedding array itself, not a second copy.
 */
public record GpuWeights(Matrix embedding, List<Layer> layers, F32Array finalNorm, Matrix lmHead) {
    /** A weight matrix on the device: {@code rows × cols} elements of {@code array}'s type. */
    public record Matrix(TypedArray array, int rows, int cols) {
        /** Rows {@code from .. from + count − 1}, in place. */
        Matrix slice(int from, int count) {
            long at = (long) from * cols, n = (long) count * cols;
            TypedArray part = switch (array) {
                case BF16Array a -> a.slice(at, n);
                case F16Array a -> a.slice(at, n);
                case F32Array a -> a.slice(at, n);
                default -> throw new IllegalStateException("weights of " + array.describe() + " cannot be sliced");
            };
            return new Matrix(part, count, cols);
        }
    }

    /**
     * One decoder layer; optional parts are null where the family has none. {@code qkv} holds the query, key and value
     * weights one after another along the outputs (they are its rows) and {@code gateUp} the gate's and up projection's,
     * so that a decode step multiplies each stack in one GEMM or launch; null where the parts' types differ.
     * {@code qkvBias} stacks the three biases the same way (each a slice of it), null unless all three exist.
     */
    public record Layer(F32Array attentionNorm, Matrix query, Matrix key, Matrix value, Matrix output, F32Array queryBias,
            F32Array keyBias, F32Array valueBias, F32Array outputBias, F32Array queryNorm, F32Array keyNorm,
            F32Array feedForwardNorm, Matrix gate, Matrix up, Matrix down, Matrix qkv, Matrix gateUp, F32Array qkvBias) {}

    /** Uploads {@code weights}; quantized matrices are refused, naming the type. */
    public static GpuWeights upload(Device device, ModelWeights weights) {
        Matrix embedding = matrix(device, weights.embedding());
        List<Layer> layers = new ArrayList<>();
        for (LayerWeights w : weights.layers()) {
            Matrix[] qkv = stack(device, w.query(), w.key(), w.value());
            Matrix[] gateUp = stack(device, w.gate(), w.up());
            F32Array[] qkvBias = stack(device, w.queryBias(), w.keyBias(), w.valueBias());
            layers.add(new Layer(floats(device, w.attentionNorm()), qkv[1], qkv[2], qkv[3], matrix(device, w.output()),
                    qkvBias[1], qkvBias[2], qkvBias[3], floats(device, w.outputBias()), floats(device, w.queryNorm()),
                    floats(device, w.keyNorm()), floats(device, w.feedForwardNorm()), gateUp[1], gateUp[2], matrix(device, w.down()),
                    qkv[0], gateUp[0], qkvBias[0]));
        }
        Matrix lmHead = weights.lmHead() == weights.embedding() ? embedding : matrix(device, weights.lmHead());
        return new GpuWeights(embedding, layers, floats(device, weights.finalNorm()), lmHead);
    }

    /**
     * Random BF16 weights of {@code config}'s shape made on the device ({@link RandomFill}): matrices uniform with
     * variance {@code 1/cols}, so activations keep their scale from layer to layer, norms 1, biases absent, the LM
     * head its own matrix unless the config ties it. For throughput benchmarks at real models' sizes.
     */
    public static GpuWeights random(Device device, ModelConfig config, long seed) {
        long[] next = {seed};
        java.util.function.BiFunction<Integer, Integer, Matrix> matrix = (rows, cols) -> {
            BF16Array a = device.bf16((long) rows * cols);
            float scale = (float) Math.sqrt(3.0 / cols);
            device.launch(KernelMethod.of(RandomFill.class, "half"), Grid.of(4096, DecodeLayerShape.ELEMENTWISE_THREADS), a,
                    a.length(), next[0]++, scale);
            return new Matrix(a, rows, cols);
        };
        int hidden = config.hiddenSize();
        Matrix embedding = matrix.apply(config.vocabSize(), hidden);
        List<Layer> layers = new ArrayList<>();
        int q = config.queryWidth(), kv = config.kvWidth(), intermediate = config.intermediateSize();
        for (int l = 0; l < config.layers(); l++) {
            // stacks filled as one matrix: each part's rows are uniform with variance 1/hidden all the same
            Matrix qkv = matrix.apply(q + 2 * kv, hidden), gateUp = matrix.apply(2 * intermediate, hidden);
            layers.add(new Layer(ones(device, hidden), qkv.slice(0, q), qkv.slice(q, kv), qkv.slice(q + kv, kv),
                    matrix.apply(hidden, q), null, null, null, null, config.family().qkNorm() ? ones(device, config.headDim()) : null,
                    config.family().qkNorm() ? ones(device, config.headDim()) : null, ones(device, hidden),
                    gateUp.slice(0, intermediate), gateUp.slice(intermediate, intermediate), matrix.apply(hidden, intermediate),
                    qkv, gateUp, null));
        }
        Matrix lmHead = config.tiedEmbeddings() ? embedding : matrix.apply(config.vocabSize(), hidden);
        return new GpuWeights(embedding, layers, ones(device, hidden), lmHead);
    }

    private static F32Array ones(Device device, int n) {
        float[] values = new float[n];
        java.util.Arrays.fill(values, 1f);
        return floats(device, values);
    }

    /**
     * {@code parts} (of one input width) uploaded one after another into one matrix: {@code [stack, part 0, part 1, ...]},
     * each part a slice of the stack; where their types or widths differ, each uploaded on its own and the stack null.
     */
    private static Matrix[] stack(Device device, WeightMatrix... parts) {
        Matrix[] out = new Matrix[parts.length + 1];
        boolean alike = Arrays.stream(parts).allMatch(p -> p.type() == parts[0].type() && p.cols() == parts[0].cols());
        if (!alike) {
            for (int i = 0; i < parts.length; i++) {
                out[i + 1] = matrix(device, parts[i]);
            }
            return out;
        }
        long rows = 0;
        for (WeightMatrix p : parts) {
            rows += p.rows();
        }
        int cols = Math.toIntExact(parts[0].cols());
        Matrix stack = new Matrix(device.allocate(elementType(parts[0]), Math.multiplyExact(rows, cols)), Math.toIntExact(rows), cols);
        out[0] = stack;
        for (int i = 0, from = 0; i < parts.length; from += out[i + 1].rows(), i++) {
            out[i + 1] = stack.slice(from, Math.toIntExact(parts[i].rows()));
            device.upload(parts[i].data().asSlice(0, out[i + 1].array().byteSize()), out[i + 1].array());
        }
        return out;
    }

    /**
     * Biases uploaded as {@link #stack(Device, WeightMatrix...)} uploads weights: {@code [stack, part 0, part 1, ...]},
     * each part a slice of the stack where all exist; where none does, all null; otherwise each on its own, no stack.
     */
    private static F32Array[] stack(Device device, float[]... parts) {
        F32Array[] out = new F32Array[parts.length + 1];
        if (Arrays.stream(parts).anyMatch(Objects::isNull)) {
            for (int i = 0; i < parts.length; i++) {
                out[i + 1] = floats(device, parts[i]);
            }
            return out;
        }
        out[0] = device.f32(Arrays.stream(parts).mapToLong(p -> p.length).sum());
        for (int i = 0, from = 0; i < parts.length; from += parts[i].length, i++) {
            out[i + 1] = out[0].slice(from, parts[i].length);
            device.upload(MemorySegment.ofArray(parts[i]), out[i + 1]);
        }
        return out;
    }

    private static Matrix matrix(Device device, WeightMatrix w) {
        TypedArray array = device.allocate(elementType(w), Math.multiplyExact(w.rows(), w.cols()));
        device.upload(w.data().asSlice(0, array.byteSize()), array);
        return new Matrix(array, Math.toIntExact(w.rows()), Math.toIntExact(w.cols()));
    }

    private static ElementType elementType(WeightMatrix w) {
        return switch (w.type()) {
            case BF16 -> ElementType.BF16;
            case F16 -> ElementType.F16;
            case F32 -> ElementType.F32;
            default -> throw new IllegalArgumentException("the GPU path multiplies BF16, F16 and F32 weights; this model has "
                    + w.type() + " matrices (convert it with `retroinfer convert --type bf16`)");
        };
    }

    private static F32Array floats(Device device, float[] values) {
        if (values == null) {
            return null;
        }
        F32Array array = device.f32(values.length);
        device.upload(MemorySegment.ofArray(values), array);
        return array;
    }
}
