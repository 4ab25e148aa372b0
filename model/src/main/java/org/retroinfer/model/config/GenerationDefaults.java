package org.retroinfer.model.config;

import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * What a model's files say about generation: the tokens that end it and the sampling settings its
 * authors recommend ({@code generation_config.json}, or GGUF tokenizer metadata).
 *
 * @param bosTokenId   the beginning-of-sequence token, if the model has one
 * @param eosTokenIds  every token that ends generation
 * @param temperature  recommended temperature, if given
 * @param topP         recommended nucleus mass, if given
 * @param topK         recommended top-k, if given
 */
public record GenerationDefaults(OptionalInt bosTokenId, List<Integer> eosTokenIds, OptionalDouble temperature,
                                 OptionalDouble topP, OptionalInt topK) {
    public GenerationDefaults {
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    public static GenerationDefaults none() {
        return new GenerationDefaults(OptionalInt.empty(), List.of(), OptionalDouble.empty(), OptionalDouble.empty(),
                OptionalInt.empty());
    }
}
