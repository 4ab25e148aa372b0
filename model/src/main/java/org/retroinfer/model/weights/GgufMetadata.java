package org.retroinfer.model.weights;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The metadata of a GGUF file (model hyperparameters under {@code <arch>.*}, the tokenizer under
 * {@code tokenizer.ggml.*}, ...) with typed getters. A missing key or a value of the wrong type is a
 * {@link ModelFileException} that names the file and the key.
 */
public final class GgufMetadata {
    private final Path file;
    private final Map<String, GgufValue> values;

    GgufMetadata(Path file, Map<String, GgufValue> values) {
        this.file = file;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** Every key and value, in file order. */
    public Map<String, GgufValue> all() {
        return values;
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    public Optional<GgufValue> find(String key) {
        return Optional.ofNullable(values.get(key));
    }

    /** The value of {@code key}, which must be present. */
    public GgufValue require(String key) {
        GgufValue value = values.get(key);
        if (value == null) {
            throw new ModelFileException(file, "metadata key " + key + " is missing; the file was not written for"
                    + " this kind of model, or by an old converter: convert the model again with a current llama.cpp");
        }
        return value;
    }

    public String string(String key) {
        return asString(key, require(key));
    }

    public Optional<String> optionalString(String key) {
        return find(key).map(v -> asString(key, v));
    }

    /** An integer of any GGUF integer type. */
    public long integer(String key) {
        return asInteger(key, require(key));
    }

    public OptionalLong optionalInteger(String key) {
        GgufValue v = values.get(key);
        return v == null ? OptionalLong.empty() : OptionalLong.of(asInteger(key, v));
    }

    /** A number of any GGUF integer or float type. */
    public double number(String key) {
        return asNumber(key, require(key));
    }

    public OptionalDouble optionalNumber(String key) {
        GgufValue v = values.get(key);
        return v == null ? OptionalDouble.empty() : OptionalDouble.of(asNumber(key, v));
    }

    public boolean bool(String key) {
        return asBool(key, require(key));
    }

    public Optional<Boolean> optionalBool(String key) {
        return find(key).map(v -> asBool(key, v));
    }

    /** An array of strings (such as tokenizer.ggml.tokens). */
    public List<String> strings(String key) {
        GgufValue v = require(key);
        return array(key, v, "strings", elementType(v) == GgufType.STRING);
    }

    public Optional<List<String>> optionalStrings(String key) {
        return find(key).map(v -> array(key, v, "strings", elementType(v) == GgufType.STRING));
    }

    /** An array of integers of any GGUF integer type (such as tokenizer.ggml.token_type). */
    public List<Long> integers(String key) {
        GgufValue v = require(key);
        return array(key, v, "integers", elementType(v) != null && elementType(v).isInteger());
    }

    public Optional<List<Long>> optionalIntegers(String key) {
        return find(key).map(v -> array(key, v, "integers", elementType(v) != null && elementType(v).isInteger()));
    }

    /** An array of floats (such as tokenizer.ggml.scores), as doubles. */
    public List<Double> numbers(String key) {
        GgufValue v = require(key);
        return array(key, v, "floats", elementType(v) != null && elementType(v).isFloat());
    }

    public Optional<List<Double>> optionalNumbers(String key) {
        return find(key).map(v -> array(key, v, "floats", elementType(v) != null && elementType(v).isFloat()));
    }

    private String asString(String key, GgufValue v) {
        if (v.type() != GgufType.STRING) {
            throw wrongType(key, v, "a string");
        }
        return v.asString();
    }

    private long asInteger(String key, GgufValue v) {
        if (!v.type().isInteger()) {
            throw wrongType(key, v, "an integer");
        }
        return v.asLong();
    }

    private double asNumber(String key, GgufValue v) {
        if (!v.type().isInteger() && !v.type().isFloat()) {
            throw wrongType(key, v, "a number");
        }
        return v.asDouble();
    }

    private boolean asBool(String key, GgufValue v) {
        if (v.type() != GgufType.BOOL) {
            throw wrongType(key, v, "a boolean");
        }
        return v.asBoolean();
    }

    private static GgufType elementType(GgufValue v) {
        return v.type() == GgufType.ARRAY ? v.elementType() : null;
    }

    @SuppressWarnings("unchecked")
    private <T> List<T> array(String key, GgufValue v, String what, boolean matches) {
        if (!matches) {
            throw wrongType(key, v, "an array of " + what);
        }
        return (List<T>) v.asList();
    }

    private ModelFileException wrongType(String key, GgufValue v, String expected) {
        String actual = v.type() == GgufType.ARRAY ? "an array of " + v.elementType() : "a " + v.type();
        return new ModelFileException(file, "metadata key " + key + " is " + actual + " but must be " + expected
                + "; the file was written by a converter that does not follow llama.cpp's conventions");
    }
}
