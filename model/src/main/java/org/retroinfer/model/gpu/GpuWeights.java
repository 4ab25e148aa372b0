package org.retroinfer.model.gpu;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.retroinfer.accel.device.Device;
import org.retroinfer.accel.kernel.ElementType;
import org.retroinfer.accel.kernel.F32Array;
import org.retroinfer.accel.kernel.TypedArray;
import org.retroinfer.kernels.WeightMatrix;
import org.retroinfer.model.transformer.LayerWeights;
import org.retroinfer.model.transformer.ModelWeights;

/**
 * A model's weights copied to a device once, in the checkpoint's own types: matrices stay BF16, F16 or F32 (what
 * {@link org.retroinfer.kernels.gpu.Linear} multiplies), norms and biases become F32 arrays. A tied LM head is the
 * embedding array itself, not a second copy.
 */
public record GpuWeights(Matrix embedding, List<Layer> layers, F32Array finalNorm, Matrix lmHead) {
    /** A weight matrix on the device: {@code rows × cols} elements of {@code array}'s type. */
    public record Matrix(TypedArray array, int rows, int cols) {}

    /** One decoder layer; optional parts are null where the family has none. */
    public record Layer(F32Array attentionNorm, Matrix query, Matrix key, Matrix value, Matrix output, F32Array queryBias,
            F32Array keyBias, F32Array valueBias, F32Array outputBias, F32Array queryNorm, F32Array keyNorm,
            F32Array feedForwardNorm, Matrix gate, Matrix up, Matrix down) {}

    /** Uploads {@code weights}; quantized matrices are refused, naming the type. */
    public static GpuWeights upload(Device device, ModelWeights weights) {
        Matrix embedding = matrix(device, weights.embedding());
        List<Layer> layers = new ArrayList<>();
        for (LayerWeights w : weights.layers()) {
            layers.add(new Layer(floats(device, w.attentionNorm()), matrix(device, w.query()), matrix(device, w.key()),
                    matrix(device, w.value()), matrix(device, w.output()), floats(device, w.queryBias()),
                    floats(device, w.keyBias()), floats(device, w.valueBias()), floats(device, w.outputBias()),
                    floats(device, w.queryNorm()), floats(device, w.keyNorm()), floats(device, w.feedForwardNorm()),
                    matrix(device, w.gate()), matrix(device, w.up()), matrix(device, w.down())));
        }
        Matrix lmHead = weights.lmHead() == weights.embedding() ? embedding : matrix(device, weights.lmHead());
        return new GpuWeights(embedding, layers, floats(device, weights.finalNorm()), lmHead);
    }

    private static Matrix matrix(Device device, WeightMatrix w) {
        ElementType type = switch (w.type()) {
            case BF16 -> ElementType.BF16;
            case F16 -> ElementType.F16;
            case F32 -> ElementType.F32;
            default -> throw new IllegalArgumentException("the GPU path multiplies BF16, F16 and F32 weights; this model has "
                    + w.type() + " matrices (convert it with `retroinfer convert --type bf16`)");
        };
        TypedArray array = device.allocate(type, Math.multiplyExact(w.rows(), w.cols()));
        device.upload(w.data().asSlice(0, array.byteSize()), array);
        return new Matrix(array, Math.toIntExact(w.rows()), Math.toIntExact(w.cols()));
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
