package org.retroinfer.accel.kernel;

/** The four warp shuffles of PTX {@code shfl.sync}: which lane a thread reads from. */
public enum ShuffleMode {
    /** From lane {@code laneId + delta}; lanes past the end keep their own value. */
    DOWN,
    /** From lane {@code laneId - delta}; lanes before the start keep their own value. */
    UP,
    /** From lane {@code laneId ^ mask} (butterfly). */
    XOR,
    /** From the lane given as the argument (broadcast when all lanes pass the same one). */
    IDX
}
