package org.retroinfer.model.weights;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/** Opens whatever weights a user points at: a checkpoint directory, a safetensors file or a GGUF file. */
public final class WeightFiles {
    private static final String SUPPORTED = "RetroInfer reads Hugging Face safetensors (a checkpoint directory"
            + " or a .safetensors file) and GGUF files";
    private static final List<String> PICKLE_SUFFIXES = List.of(".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle");

    private WeightFiles() {}

    /**
     * Opens {@code path}: a directory as a safetensors checkpoint ({@code model.safetensors} or
     * {@code model.safetensors.index.json}), a file by its content (the GGUF magic) or, failing that,
     * its extension. Anything else (PyTorch pickles, unknown files) is a {@link ModelFileException}
     * that says which formats are supported.
     */
    public static WeightFile open(Path path) {
        if (!Files.exists(path)) {
            throw new ModelFileException(path, "does not exist; " + SUPPORTED + ": check the model path");
        }
        if (Files.isDirectory(path)) {
            return SafetensorsCheckpoint.open(path);
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.equals(SafetensorsCheckpoint.INDEX_FILE)) {
            return SafetensorsCheckpoint.open(path.toAbsolutePath().getParent());
        }
        byte[] head = head(path);
        if (startsWith(head, "GGUF") || name.endsWith(".gguf")) {
            return GgufFile.open(path);
        }
        if (name.endsWith(".safetensors")) {
            return SafetensorsFile.open(path);
        }
        if (PICKLE_SUFFIXES.stream().anyMatch(name::endsWith) || isPickleOrZip(head)) {
            throw new ModelFileException(path, "looks like a PyTorch pickle checkpoint, which RetroInfer does not read"
                    + " (pickles can run code); " + SUPPORTED + ": convert it, e.g. load it in transformers and"
                    + " save_pretrained(dir, safe_serialization=True)");
        }
        if (looksLikeSafetensors(head)) {
            return SafetensorsFile.open(path);
        }
        throw new ModelFileException(path, "is neither a safetensors nor a GGUF file; " + SUPPORTED);
    }

    /** A clause naming the real format of a file that is not what its reader expected, or "". */
    static String formatHint(MemorySegment file) {
        byte[] head = file.asSlice(0, Math.min(16, file.byteSize())).toArray(ValueLayout.JAVA_BYTE);
        if (startsWith(head, "GGUF")) {
            return "; it starts with GGUF, so it is a GGUF file: name it .gguf";
        }
        if (isPickleOrZip(head)) {
            return "; it looks like a PyTorch pickle checkpoint, which RetroInfer does not read";
        }
        return "";
    }

    /** A clause saying what a directory without a checkpoint holds instead, and what to pass. */
    static String describeDirectory(Path directory) {
        List<String> gguf = new ArrayList<>();
        List<String> safetensors = new ArrayList<>();
        List<String> pickles = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path p : files.sorted().toList()) {
                String name = p.getFileName().toString();
                String lower = name.toLowerCase(Locale.ROOT);
                if (lower.endsWith(".gguf")) {
                    gguf.add(name);
                } else if (lower.endsWith(".safetensors")) {
                    safetensors.add(name);
                } else if (PICKLE_SUFFIXES.stream().anyMatch(lower::endsWith)) {
                    pickles.add(name);
                }
            }
        } catch (IOException e) {
            return "; its files cannot be listed: " + e.getMessage();
        }
        if (!gguf.isEmpty()) {
            return "; it holds GGUF files " + gguf + ": pass one of those files instead";
        }
        if (!safetensors.isEmpty()) {
            return "; it holds " + safetensors + ": pass the .safetensors file itself, or add the index";
        }
        if (!pickles.isEmpty()) {
            return "; it holds PyTorch pickle weights " + pickles + ", which RetroInfer does not read: convert them"
                    + " to safetensors (transformers' save_pretrained(dir, safe_serialization=True))";
        }
        return "; " + SUPPORTED;
    }

    private static byte[] head(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(16);
        } catch (IOException e) {
            throw new ModelFileException(path, "cannot be read: " + e.getMessage(), e);
        }
    }

    private static boolean startsWith(byte[] head, String magic) {
        if (head.length < magic.length()) {
            return false;
        }
        for (int i = 0; i < magic.length(); i++) {
            if (head[i] != magic.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** A zip archive (torch.save since PyTorch 1.6) or a raw pickle (protocol 2 to 5). */
    private static boolean isPickleOrZip(byte[] head) {
        return startsWith(head, "PK\u0003\u0004") || (head.length >= 2 && (head[0] & 0xFF) == 0x80 && head[1] >= 2 && head[1] <= 5);
    }

    /** A plausible little-endian header length followed by the '{' that opens the JSON header. */
    private static boolean looksLikeSafetensors(byte[] head) {
        if (head.length < 9) {
            return false;
        }
        long length = 0;
        for (int i = 7; i >= 0; i--) {
            length = length << 8 | (head[i] & 0xFF);
        }
        return length > 0 && length <= SafetensorsFile.MAX_HEADER_BYTES && head[8] == '{';
    }
}
