package org.retroinfer.model.weights;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A read position in a mapped GGUF file. Every read is checked against the end of the file first,
 * with 64-bit arithmetic, so a truncated or corrupt file is reported with what was being read and
 * where, and no count or length from the file is trusted before it is checked.
 */
final class GgufCursor {
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final MemorySegment file;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private long position;

    GgufCursor(Path path, MemorySegment file, long position) {
        this.path = path;
        this.file = file;
        this.position = position;
    }

    long position() {
        return position;
    }

    long remaining() {
        return file.byteSize() - position;
    }

    byte i8(String what) {
        need(1, what);
        return file.get(ValueLayout.JAVA_BYTE, position++);
    }

    short i16(String what) {
        need(2, what);
        short v = file.get(LE_SHORT, position);
        position += 2;
        return v;
    }

    int i32(String what) {
        need(4, what);
        int v = file.get(LE_INT, position);
        position += 4;
        return v;
    }

    long u32(String what) {
        return Integer.toUnsignedLong(i32(what));
    }

    /** A u64 or i64 as its raw bits; callers check the sign where the value is a size. */
    long i64(String what) {
        need(8, what);
        long v = file.get(LE_LONG, position);
        position += 8;
        return v;
    }

    /** A GGUF string: u64 byte length, then that many bytes of UTF-8. */
    String string(String what) {
        long length = i64(what + "'s length");
        if (length < 0 || length > remaining()) {
            throw new ModelFileException(path, "is truncated or corrupt: " + what + " at byte " + (position - 8)
                    + " claims " + Long.toUnsignedString(length) + " bytes but only " + remaining()
                    + " remain in the file; fetch the file again");
        }
        MemorySegment bytes = file.asSlice(position, length);
        position += length;
        try {
            return utf8.decode(bytes.asByteBuffer()).toString();
        } catch (CharacterCodingException e) {
            throw new ModelFileException(path, "is corrupt: " + what + " at byte " + (position - length)
                    + " is not valid UTF-8; fetch the file again");
        }
    }

    /** Checks that {@code count} items of at least {@code minBytes} each can still fit in the file. */
    void checkCount(long count, long minBytes, String what) {
        if (count < 0 || (count > 0 && count > remaining() / minBytes)) {
            throw new ModelFileException(path, "is truncated or corrupt: it claims " + Long.toUnsignedString(count) + " " + what
                    + " at byte " + position + ", but the " + remaining() + " bytes left hold at most "
                    + remaining() / minBytes + "; fetch the file again");
        }
    }

    private void need(long n, String what) {
        if (n > remaining()) {
            throw new ModelFileException(path, "is truncated: it ends at byte " + file.byteSize() + ", inside " + what
                    + " (" + (n - remaining()) + " more bytes needed); fetch the file again");
        }
    }
}
