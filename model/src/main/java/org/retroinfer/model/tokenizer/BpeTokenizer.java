package org.retroinfer.model.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The Hugging Face tokenization pipeline over a BPE model: added tokens are split out of the text,
 * each stretch between them is normalized, pre-tokenized into pieces and encoded by the model, and
 * the post-processor adds the special tokens. Decoding runs the decoder over the token strings.
 * Immutable and safe to share between threads.
 */
final class BpeTokenizer implements Tokenizer {
    private final String[] tokens;
    private final boolean[] special;
    private final Map<String, Integer> ids;
    private final AddedTokenMatcher rawAddedTokens;
    private final AddedTokenMatcher normalizedAddedTokens;
    private final boolean hasNormalizedAddedTokens;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final TokenModel model;
    private final PostProcessor postProcessor;
    private final Decoder decoder;

    /**
     * @param vocab the model's vocabulary; added tokens take their ids on top of it (replacing a
     *              vocabulary entry with the same id)
     */
    BpeTokenizer(Map<String, Integer> vocab, List<AddedToken> addedTokens, Normalizer normalizer,
                 PreTokenizer preTokenizer, TokenModel model, PostProcessor postProcessor, Decoder decoder) {
        int size = 0;
        for (int id : vocab.values()) {
            size = Math.max(size, id + 1);
        }
        for (AddedToken t : addedTokens) {
            size = Math.max(size, t.id() + 1);
        }
        tokens = new String[size];
        special = new boolean[size];
        ids = new HashMap<>(vocab);
        vocab.forEach((token, id) -> tokens[id] = token);
        List<AddedToken> raw = new ArrayList<>();
        List<AddedToken> normalized = new ArrayList<>();
        for (AddedToken t : addedTokens) {
            tokens[t.id()] = t.content();
            special[t.id()] = t.special();
            ids.put(t.content(), t.id());
            if (t.normalized()) {
                // matched in normalized text, so its pattern is its own normalized form
                normalized.add(new AddedToken(t.id(), normalizer.normalize(t.content()), t.special(), t.lstrip(),
                        t.rstrip(), t.singleWord(), true));
            } else {
                raw.add(t);
            }
        }
        this.rawAddedTokens = new AddedTokenMatcher(raw);
        this.normalizedAddedTokens = new AddedTokenMatcher(normalized);
        this.hasNormalizedAddedTokens = !normalized.isEmpty();
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.postProcessor = postProcessor;
        this.decoder = decoder;
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        IntList out = new IntList(Math.max(16, text.length() / 3));
        List<String> pieces = new ArrayList<>();
        for (AddedTokenMatcher.Segment seg : rawAddedTokens.split(text)) {
            if (seg.tokenId() >= 0) {
                out.add(seg.tokenId());
                continue;
            }
            String normalized = normalizer.normalize(text.substring(seg.start(), seg.end()));
            if (!hasNormalizedAddedTokens) {
                encodePlain(normalized, seg.start() == 0, pieces, out);
                continue;
            }
            for (AddedTokenMatcher.Segment sub : normalizedAddedTokens.split(normalized)) {
                if (sub.tokenId() >= 0) {
                    out.add(sub.tokenId());
                } else {
                    encodePlain(normalized.substring(sub.start(), sub.end()), seg.start() == 0 && sub.start() == 0, pieces, out);
                }
            }
        }
        int[] encoded = out.toArray();
        return addSpecialTokens ? postProcessor.apply(encoded) : encoded;
    }

    private void encodePlain(String text, boolean atTextStart, List<String> pieces, IntList out) {
        if (text.isEmpty()) {
            return;
        }
        pieces.clear();
        preTokenizer.apply(text, atTextStart, pieces);
        for (String piece : pieces) {
            model.tokenize(piece, out);
        }
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> strings = new ArrayList<>(ids.length);
        for (int id : ids) {
            // ids without a token (beyond the vocabulary, or a gap in it) decode to nothing, as in the library
            if (id >= 0 && id < tokens.length && tokens[id] != null && !(skipSpecialTokens && special[id])) {
                strings.add(tokens[id]);
            }
        }
        return decoder.decode(strings);
    }

    @Override
    public StreamDecoder streamDecoder(boolean skipSpecialTokens) {
        return new StreamDecoder(this, skipSpecialTokens);
    }

    @Override
    public int vocabularySize() {
        return tokens.length;
    }

    @Override
    public OptionalInt tokenId(String token) {
        Integer id = ids.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public String token(int id) {
        if (id < 0 || id >= tokens.length || tokens[id] == null) {
            throw new IllegalArgumentException("no token has id " + id + " (the vocabulary has ids 0 to " + (tokens.length - 1) + ")");
        }
        return tokens[id];
    }

    @Override
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }
}
