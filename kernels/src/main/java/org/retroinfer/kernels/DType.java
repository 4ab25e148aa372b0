package org.retroinfer.kernels;

/**
 * Storage types of weights and caches. Quantised types store blocks of {@link #blockElements()}
 * values in {@link #blockBytes()} bytes, laid out as in GGML (llama.cpp's GGUF files):
 * <ul>
 *   <li>{@code Q8_0}: an F16 scale {@code d}, then 32 signed bytes {@code q}; value = d·q.</li>
 *   <li>{@code Q4_0}: an F16 scale {@code d}, then 16 bytes; byte j holds element j in its low
 *       nibble and element j+16 in its high nibble; value = d·(nibble − 8).</li>
 * </ul>
 */
public enum DType {
    F32(1, 4),
    F16(1, 2),
    BF16(1, 2),
    Q8_0(32, 34),
    Q4_0(32, 18);

    private final int blockElements;
    private final int blockBytes;

    DType(int blockElements, int blockBytes) {
        this.blockElements = blockElements;
        this.blockBytes = blockBytes;
    }

    public int blockElements() {
        return blockElements;
    }

    public int blockBytes() {
        return blockBytes;
    }

    public boolean isQuantized() {
        return blockElements > 1;
    }

    /** Bytes taken by {@code elements} values; {@code elements} must be a whole number of blocks. */
    public long byteSize(long elements) {
        if (elements < 0 || elements % blockElements != 0) {
            throw new IllegalArgumentException(this + " stores blocks of " + blockElements
                    + " values; " + elements + " values is not a whole number of blocks");
        }
        return elements / blockElements * blockBytes;
    }
}
