package org.retroinfer.accel.plan;

/** When a transfer of an {@link ExecutionPlan} runs (TornadoVM's DataTransferMode). */
public enum TransferMode {
    /** On the first execution only: weights and other data that stay resident on the device. */
    FIRST_EXECUTION,
    /** On every execution: inputs that change between executions, and results. */
    EVERY_EXECUTION
}
