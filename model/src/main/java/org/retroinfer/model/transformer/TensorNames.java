package org.retroinfer.model.transformer;

/** Where each weight of a decoder lives in a file, by the naming scheme of its format. */
public enum TensorNames {
    /** Hugging Face checkpoints ({@code model.layers.0.self_attn.q_proj.weight}). */
    HUGGING_FACE {
        @Override
        public String layer(int layer, Part part) {
            String prefix = "model.layers." + layer + ".";
            return prefix + switch (part) {
                case ATTENTION_NORM -> "input_layernorm.weight";
                case QUERY -> "self_attn.q_proj.weight";
                case KEY -> "self_attn.k_proj.weight";
                case VALUE -> "self_attn.v_proj.weight";
                case OUTPUT -> "self_attn.o_proj.weight";
                case QUERY_BIAS -> "self_attn.q_proj.bias";
                case KEY_BIAS -> "self_attn.k_proj.bias";
                case VALUE_BIAS -> "self_attn.v_proj.bias";
                case OUTPUT_BIAS -> "self_attn.o_proj.bias";
                case QUERY_NORM -> "self_attn.q_norm.weight";
                case KEY_NORM -> "self_attn.k_norm.weight";
                case FEED_FORWARD_NORM -> "post_attention_layernorm.weight";
                case GATE -> "mlp.gate_proj.weight";
                case UP -> "mlp.up_proj.weight";
                case DOWN -> "mlp.down_proj.weight";
            };
        }

        @Override
        public String embedding() {
            return "model.embed_tokens.weight";
        }

        @Override
        public String finalNorm() {
            return "model.norm.weight";
        }

        @Override
        public String lmHead() {
            return "lm_head.weight";
        }
    },
    /** GGUF files as llama.cpp names their tensors ({@code blk.0.attn_q.weight}). */
    GGUF {
        @Override
        public String layer(int layer, Part part) {
            String prefix = "blk." + layer + ".";
            return prefix + switch (part) {
                case ATTENTION_NORM -> "attn_norm.weight";
                case QUERY -> "attn_q.weight";
                case KEY -> "attn_k.weight";
                case VALUE -> "attn_v.weight";
                case OUTPUT -> "attn_output.weight";
                case QUERY_BIAS -> "attn_q.bias";
                case KEY_BIAS -> "attn_k.bias";
                case VALUE_BIAS -> "attn_v.bias";
                case OUTPUT_BIAS -> "attn_output.bias";
                case QUERY_NORM -> "attn_q_norm.weight";
                case KEY_NORM -> "attn_k_norm.weight";
                case FEED_FORWARD_NORM -> "ffn_norm.weight";
                case GATE -> "ffn_gate.weight";
                case UP -> "ffn_up.weight";
                case DOWN -> "ffn_down.weight";
            };
        }

        @Override
        public String embedding() {
            return "token_embd.weight";
        }

        @Override
        public String finalNorm() {
            return "output_norm.weight";
        }

        @Override
        public String lmHead() {
            return "output.weight";
        }
    };

    /** The per-layer weights of a decoder. */
    public enum Part {
        ATTENTION_NORM, QUERY, KEY, VALUE, OUTPUT, QUERY_BIAS, KEY_BIAS, VALUE_BIAS, OUTPUT_BIAS, QUERY_NORM, KEY_NORM,
        FEED_FORWARD_NORM, GATE, UP, DOWN
    }

    public abstract String layer(int layer, Part part);

    public abstract String embedding();

    public abstract String finalNorm();

    public abstract String lmHead();
}
