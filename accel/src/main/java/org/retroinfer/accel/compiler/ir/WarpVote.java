package org.retroinfer.accel.compiler.ir;

/** The warp votes of {@link Op#WARP_VOTE}: which lanes hold a flag, and which hold the same value as this one. */
public enum WarpVote {
    BALLOT,
    MATCH_ANY
}
