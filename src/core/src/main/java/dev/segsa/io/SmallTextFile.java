package dev.segsa.io;

import dev.segsa.error.SegsaException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The one reader of small inputs read whole (configurations, model metadata, the risk model):
 * the path must be a regular file (a device such as {@code /dev/zero}, a FIFO or a directory is
 * refused before it is opened), its size is held to the limit before reading, and reading stops
 * at the limit plus one byte, so a file that grows meanwhile (or is swapped) cannot exhaust the
 * heap. Text is decoded as UTF-8 strictly: a malformed byte is refused with its offset (a leading
 * byte-order mark is dropped). Every error is one line that starts with the file.
 */
public final class SmallTextFile {
    /** The limit for configuration files. */
    public static final long CONFIG_MAX_BYTES = 1 << 20;
    /** The largest limit {@link #readBytes} takes (one Java array). */
    public static final long MAX_LIMIT = Integer.MAX_VALUE - 16;

    private SmallTextFile() {}

    /**
     * The text of {@code file}; {@code what} names it in errors ({@code FILE: selector configuration
     * is not a regular file ...}).
     */
    public static String read(Path file, long maxBytes, String what) {
        byte[] b = readBytes(file, maxBytes, what);
        return decode(b, 0, b.length, file.toString(), what);
    }

    /** The bytes of {@code file}, a regular file of at most {@code maxBytes} bytes. */
    public static byte[] readBytes(Path file, long maxBytes, String what) {
        if (maxBytes < 0 || maxBytes > MAX_LIMIT) throw new IllegalArgumentException("limit " + maxBytes);
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new SegsaException(file + ": " + what + " not found", e);
        } catch (IOException e) {
            throw new SegsaException(file + ": cannot read the " + what + ": " + e, e);
        }
        if (a.isDirectory()) throw new SegsaException(file + ": " + what + " is a directory, not a regular file");
        if (!a.isRegularFile()) throw new SegsaException(file + ": " + what + " is not a regular file (a device, FIFO or socket)");
        if (a.size() > maxBytes) throw new SegsaException(file + ": " + what + " is " + a.size() + " bytes, the limit is " + maxBytes);
        try (InputStream in = Files.newInputStream(file)) {
            return readAtMost(in, maxBytes, file.toString(), what);
        } catch (IOException e) {
            throw new SegsaException(file + ": cannot read the " + what + ": " + e, e);
        }
    }

    /** At most {@code maxBytes} from {@code in}: one byte more is refused ({@code where: what is more than N bytes}). */
    public static byte[] readAtMost(InputStream in, long maxBytes, String where, String what) throws IOException {
        if (maxBytes < 0 || maxBytes > MAX_LIMIT) throw new IllegalArgumentException("limit " + maxBytes);
        byte[] b = in.readNBytes((int) maxBytes + 1);
        if (b.length > maxBytes) throw new SegsaException(where + ": " + what + " is more than " + maxBytes + " bytes, the limit");
        return b;
    }

    /** {@code len} bytes at {@code off} decoded as UTF-8, strictly; a leading byte-order mark is dropped. */
    public static String decode(byte[] b, int off, int len, String where, String what) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(b, off, len);
        CharBuffer out = CharBuffer.allocate(len);
        CoderResult r = d.decode(in, out, true);
        if (!r.isError()) r = d.flush(out);
        if (r.isError()) {
            throw new SegsaException(where + ": " + what + " is not valid UTF-8 (byte " + (in.position() - off) + ")");
        }
        out.flip();
        if (out.hasRemaining() && out.get(0) == '\uFEFF') out.position(1);
        return out.toString();
    }
}
