package org.retroinfer.accel.examples;

import java.util.List;

/** An instance whose launches and arrays are fixed at construction; subclasses add the check and the traffic. */
abstract class SimpleInstance implements ExampleCase.Instance {
    private final List<ExampleCase.Launch> launches;
    private final List<Object> inputs;
    private final List<Object> outputs;

    SimpleInstance(List<ExampleCase.Launch> launches, List<Object> inputs, List<Object> outputs) {
        this.launches = launches;
        this.inputs = inputs;
        this.outputs = outputs;
    }

    @Override
    public List<ExampleCase.Launch> launches() {
        return launches;
    }

    @Override
    public List<Object> inputs() {
        return inputs;
    }

    @Override
    public List<Object> outputs() {
        return outputs;
    }
}
