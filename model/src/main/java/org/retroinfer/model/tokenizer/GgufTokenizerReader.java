package org.retroinfer.model.tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.retroinfer.model.weights.GgufType;
import org.retroinfer.model.weights.GgufValue;
import org.retroinfer.model.weights.ModelFileException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a tokenizer from GGUF {@code tokenizer.ggml.*} keys with llama.cpp's defaults
 * ({@code llama_vocab::impl::load}): what the file does not say is filled in as llama.cpp would.
 */
final class GgufTokenizerReader {
    private static final Logger LOG = LoggerFactory.getLogger(GgufTokenizerReader.class);
    static final String PREFIX = "tokenizer.ggml.";

    private final Path file;
    private final Map<String, GgufValue> metadata;

    GgufTokenizerReader(Path file, Map<String, GgufValue> metadata) {
        this.file = file;
        this.metadata = metadata;
    }

    Tokenizer read() {
        String model = string("model");
        if (model == null) {
            throw fail(PREFIX + "model is missing; the file has no tokenizer");
        }
        List<String> tokens = stringArray("tokens");
        if (tokens == null) {
            throw fail(PREFIX + "tokens is missing");
        }
        Map<String, Integer> vocab = new HashMap<>(tokens.size() * 2);
        for (int i = 0; i < tokens.size(); i++) {
            Integer previous = vocab.put(tokens.get(i), i);
            if (previous != null) {
                throw fail(PREFIX + "tokens has \"" + tokens.get(i) + "\" twice, at ids " + previous + " and " + i);
            }
        }
        GgufTokenType[] types = tokenTypes(tokens.size());
        List<AddedToken> added = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            if (types[i].matchedInText() && !tokens.get(i).isEmpty()) {
                added.add(new AddedToken(i, tokens.get(i), types[i] != GgufTokenType.USER_DEFINED, false, false, false, false));
            }
        }
        return switch (model) {
            case "gpt2" -> byteLevel(vocab, tokens.size(), added);
            case "llama" -> sentencePiece(vocab, tokens.size(), added);
            default -> throw fail(PREFIX + "model \"" + model + "\" is not supported; supported: gpt2 (byte-level BPE), "
                    + "llama (SentencePiece BPE)");
        };
    }

    private Tokenizer byteLevel(Map<String, Integer> vocab, int size, List<AddedToken> added) {
        String preName = string("pre");
        if (preName == null) {
            LOG.warn("{}: {}pre is missing; using llama.cpp's 'default' pre-tokenizer, which may not match the model's",
                    file, PREFIX);
            preName = "default";
        }
        GgufPreTokenizer pre = GgufPreTokenizer.ofName(preName);
        if (pre == null) {
            throw fail(PREFIX + "pre \"" + preName + "\" is not supported; supported: " + GgufPreTokenizer.supportedNames());
        }
        List<String> mergeList = stringArray("merges");
        if (mergeList == null) {
            throw fail(PREFIX + "merges is missing; a gpt2 tokenizer needs its BPE merges");
        }
        PairMergeMap merges = new PairMergeMap(mergeList.size());
        for (int rank = 0; rank < mergeList.size(); rank++) {
            String m = mergeList.get(rank);
            int space = m.indexOf(' ', 1);
            if (space < 0) {
                throw fail(PREFIX + "merges[" + rank + "] (\"" + m + "\") is not two tokens separated by a space");
            }
            String left = m.substring(0, space);
            String right = m.substring(space + 1);
            merges.putIfAbsent(mergeToken(vocab, left, rank), mergeToken(vocab, right, rank), rank,
                    mergeToken(vocab, left + right, rank));
        }
        BpeModel model = new BpeModel(vocab, merges, false, -1, false, pre.ignoreMerges(), null, null);
        PostProcessor post = specialsAround(size, pre.addsBosByDefault(), -1, -1);
        return new BpeTokenizer(vocab, added, pre.normalizer(), pre.preTokenizer(), model, post, new Decoder.ByteLevel());
    }

    private Tokenizer sentencePiece(Map<String, Integer> vocab, int size, List<AddedToken> added) {
        float[] scores = new float[size];
        GgufValue s = metadata.get(PREFIX + "scores");
        if (s == null) {
            throw fail(PREFIX + "scores is missing; a llama (SentencePiece) tokenizer merges by score");
        }
        List<?> list = array(s, "scores", GgufType.FLOAT32, GgufType.INT32);
        if (list.size() < size) {
            throw fail(PREFIX + "scores has " + list.size() + " values for " + size + " tokens");
        }
        for (int i = 0; i < size; i++) {
            scores[i] = (float) ((Number) list.get(i)).doubleValue();
        }
        int unk = specialId("unknown_token_id", 0, size);
        boolean spacePrefix = bool("add_space_prefix", true);
        List<Normalizer> norm = new ArrayList<>();
        if (spacePrefix) {
            norm.add(new Normalizer.Prepend("\u2581"));
        }
        norm.add(new Normalizer.Replace(java.util.regex.Pattern.compile(" "), "\u2581"));
        List<Decoder> dec = new ArrayList<>(List.of(new Decoder.Replace("\u2581", " "), new Decoder.ByteFallback(),
                new Decoder.Fuse()));
        if (spacePrefix) {
            dec.add(new Decoder.Strip(' ', 1, 0));
        }
        PostProcessor post = specialsAround(size, true, 1, 2);
        return new BpeTokenizer(vocab, added, new Normalizer.Sequence(norm), new PreTokenizer.None(),
                new SentencePieceModel(vocab, scores, unk), post, new Decoder.Sequence(dec));
    }

    /** BOS/EOS from add_bos_token/add_eos_token and the token ids, with llama.cpp's defaults. */
    private PostProcessor specialsAround(int size, boolean addBosDefault, int bosDefault, int eosDefault) {
        boolean addBos = bool("add_bos_token", addBosDefault);
        boolean addEos = bool("add_eos_token", false);
        int[] before = new int[0];
        int[] after = new int[0];
        if (addBos) {
            int bos = specialId("bos_token_id", bosDefault, size);
            if (bos < 0) {
                throw fail(PREFIX + "add_bos_token is true but " + PREFIX + "bos_token_id is missing");
            }
            before = new int[] {bos};
        }
        if (addEos) {
            int eos = specialId("eos_token_id", eosDefault, size);
            if (eos < 0) {
                throw fail(PREFIX + "add_eos_token is true but " + PREFIX + "eos_token_id is missing");
            }
            after = new int[] {eos};
        }
        return new PostProcessor.Template(before, after);
    }

    private int specialId(String key, int fallback, int size) {
        GgufValue v = metadata.get(PREFIX + key);
        if (v == null) {
            return fallback < size ? fallback : -1;
        }
        if (!v.type().isInteger()) {
            throw fail(PREFIX + key + " must be an integer (UINT32), not " + v.type());
        }
        long id = v.asLong();
        if (id < 0 || id >= size) {
            throw fail(PREFIX + key + " = " + id + " is outside the " + size + " tokens");
        }
        return (int) id;
    }

    private int mergeToken(Map<String, Integer> vocab, String token, int rank) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw fail(PREFIX + "merges[" + rank + "] needs the token \"" + token + "\", which is not in " + PREFIX + "tokens");
        }
        return id;
    }

    private GgufTokenType[] tokenTypes(int size) {
        GgufTokenType[] types = new GgufTokenType[size];
        java.util.Arrays.fill(types, GgufTokenType.NORMAL);
        GgufValue v = metadata.get(PREFIX + "token_type");
        if (v == null) {
            return types;
        }
        List<?> list = array(v, "token_type", GgufType.INT32);
        if (list.size() < size) {
            throw fail(PREFIX + "token_type has " + list.size() + " values for " + size + " tokens");
        }
        for (int i = 0; i < size; i++) {
            types[i] = GgufTokenType.ofCode((Long) list.get(i));
        }
        return types;
    }

    private String string(String key) {
        GgufValue v = metadata.get(PREFIX + key);
        if (v == null) {
            return null;
        }
        if (v.type() != GgufType.STRING) {
            throw fail(PREFIX + key + " must be a STRING, not " + v.type());
        }
        return v.asString();
    }

    private boolean bool(String key, boolean fallback) {
        GgufValue v = metadata.get(PREFIX + key);
        if (v == null) {
            return fallback;
        }
        if (v.type() != GgufType.BOOL) {
            throw fail(PREFIX + key + " must be a BOOL, not " + v.type());
        }
        return v.asBoolean();
    }

    private List<String> stringArray(String key) {
        GgufValue v = metadata.get(PREFIX + key);
        if (v == null) {
            return null;
        }
        List<?> list = array(v, key, GgufType.STRING);
        List<String> out = new ArrayList<>(list.size());
        for (Object o : list) {
            out.add((String) o);
        }
        return out;
    }

    private List<?> array(GgufValue v, String key, GgufType... elementTypes) {
        if (v.type() == GgufType.ARRAY) {
            for (GgufType t : elementTypes) {
                if (v.elementType() == t) {
                    return v.asList();
                }
            }
        }
        String expected = elementTypes.length == 1 ? elementTypes[0].toString() : java.util.Arrays.toString(elementTypes);
        throw fail(PREFIX + key + " must be an ARRAY of " + expected + ", not " + v.type()
                + (v.elementType() == null ? "" : " of " + v.elementType()));
    }

    private ModelFileException fail(String problem) {
        return new ModelFileException(file, problem);
    }
}
