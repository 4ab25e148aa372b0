package org.retroinfer.accel.compiler.frontend;

import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import org.retroinfer.accel.compiler.ir.Type;
import org.retroinfer.accel.kernel.Float4;
import org.retroinfer.accel.kernel.Float8;
import org.retroinfer.accel.kernel.Int4;

/** The vector records that kernels hold in registers: their lanes' type and names (the record components). */
enum VectorShape {
    FLOAT4(Float4.class, Type.F32),
    FLOAT8(Float8.class, Type.F32),
    INT4(Int4.class, Type.I32);

    private final Class<?> type;
    private final Type laneType;
    private final List<String> laneNames;

    VectorShape(Class<?> type, Type laneType) {
        this.type = type;
        this.laneType = laneType;
        this.laneNames = Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName).toList();
    }

    Class<?> type() {
        return type;
    }

    Type laneType() {
        return laneType;
    }

    int lanes() {
        return laneNames.size();
    }

    /** The lane a record component (field) name refers to. */
    int lane(String fieldName) {
        int i = laneNames.indexOf(fieldName);
        if (i < 0) {
            throw new IllegalArgumentException(type.getSimpleName() + " has no component " + fieldName);
        }
        return i;
    }

    /** The canonical constructor's descriptor, e.g. {@code (FFFF)V}. */
    String constructorDescriptor() {
        String lane = laneType == Type.F32 ? "F" : "I";
        return "(" + lane.repeat(lanes()) + ")V";
    }

    /** The shape for an internal class name such as {@code org/retroinfer/accel/kernel/Float4}, or null. */
    static VectorShape forInternalName(String internalName) {
        for (VectorShape s : values()) {
            if (s.type.getName().replace('.', '/').equals(internalName)) {
                return s;
            }
        }
        return null;
    }
}
