package dev.segsa.mcap;

import com.github.luben.zstd.Zstd;
import dev.segsa.error.SegsaException;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Streams the records of an MCAP file (https://mcap.dev/spec) in file order: schemas, channels
 * and messages, inside chunks or not; chunks compressed with zstd (zstd-jni), lz4 (LZ4 frame
 * format: {@link Lz4Frames}, checksums by lz4-java) or not at all, their CRC checked when the writer set one. No maintained JVM
 * MCAP library exists (the official ones are C++, Go, Python, Rust, Swift and TypeScript), so this
 * record layer is segsa's own; it is tested against files written by the official TypeScript
 * library ({@code tools/mcap}).
 *
 * <p>Memory is bounded whatever the file's size: one record at a time, and one chunk's
 * decompressed records (at most {@link #MAX_CHUNK_BYTES}). Unknown opcodes are skipped (the spec
 * asks it). A file cut short (a recorder killed mid-write: no footer) is read up to its last
 * complete record and {@link #truncatedAt()} says where it ended. Every error is one
 * {@link SegsaException} naming the file, the record's offset and the problem.
 */
public final class McapReader implements AutoCloseable {
    /** The largest decompressed chunk or record accepted: 256 MiB. */
    public static final long MAX_CHUNK_BYTES = 256L << 20;

    static final byte[] MAGIC = {(byte) 0x89, 'M', 'C', 'A', 'P', '0', '\r', '\n'};
    static final int OP_HEADER = 0x01, OP_FOOTER = 0x02, OP_SCHEMA = 0x03, OP_CHANNEL = 0x04, OP_MESSAGE = 0x05, OP_CHUNK = 0x06,
            OP_MESSAGE_INDEX = 0x07, OP_CHUNK_INDEX = 0x08, OP_STATISTICS = 0x0B, OP_SUMMARY_OFFSET = 0x0E, OP_DATA_END = 0x0F;

    public record Schema(int id, String name, String encoding, byte[] data) {}

    public record Channel(int id, int schemaId, String topic, String messageEncoding, Map<String, String> metadata) {}

    /** A message: its channel, times in nanoseconds, payload, and the file offset of its record (or of its chunk). */
    public record Message(Channel channel, long sequence, long logTime, long publishTime, byte[] data, long offset) {}

    private final Path file;
    private final FileChannel in;
    private final long size;
    private final Map<Integer, Schema> schemas = new LinkedHashMap<>();
    private final Map<Integer, Channel> channels = new LinkedHashMap<>();
    private long position;
    private ByteBuffer chunk;       // the current chunk's decompressed records
    private long chunkOffset;
    private String profile = "", library = "";
    private boolean footer;
    private long truncatedAt = -1;
    private long skippedRecords;

    public McapReader(Path file) {
        this.file = file;
        if (!Files.isRegularFile(file)) throw new SegsaException(file + ": MCAP file not found");
        try {
            this.in = FileChannel.open(file, StandardOpenOption.READ);
            this.size = in.size();
        } catch (IOException e) {
            throw new SegsaException(file + ": cannot open: " + e.getMessage(), e);
        }
        byte[] magic = new byte[8];
        if (size < 8 || !readFully(0, magic) || !java.util.Arrays.equals(magic, MAGIC)) {
            close();
            throw new SegsaException(file + ": not an MCAP file (no MCAP magic at the start)");
        }
        position = 8;
    }

    public Path file() {
        return file;
    }

    public String profile() {
        return profile;
    }

    public String library() {
        return library;
    }

    /** Schemas and channels seen so far (all of them once {@link #next()} returned null). */
    public Map<Integer, Channel> channels() {
        return channels;
    }

    public Map<Integer, Schema> schemas() {
        return schemas;
    }

    /** Whether the end of the data section (DataEnd or the footer) was reached: the file was complete. */
    public boolean complete() {
        return footer;
    }

    /** Where a file cut short ended (-1 when it was not): the offset of its incomplete record. */
    public long truncatedAt() {
        return truncatedAt;
    }

    /** Records of unknown opcodes skipped. */
    public long skippedRecords() {
        return skippedRecords;
    }

    /** The next message in file order, or null at the end of the data. */
    public Message next() {
        while (true) {
            if (chunk != null) {
                Message m = nextInChunk();
                if (m != null) return m;
                chunk = null;
                continue;
            }
            if (footer || truncatedAt >= 0 || position >= size) return null;
            long at = position;
            if (size - at < 9) return truncated(at);
            ByteBuffer head = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN);
            if (!readFully(at, head.array())) return truncated(at);
            int op = head.get(0) & 0xff;
            long length = head.getLong(1);
            // a length past the end of the file: the recorder was stopped mid-record (or the file was cut);
            // everything before it has been read
            if (length < 0 || length > size - at - 9) return truncated(at);
            position = at + 9 + length;
            switch (op) {
                case OP_HEADER -> {
                    ByteBuffer b = record(at, length);
                    profile = string(b, at, "profile");
                    library = string(b, at, "library");
                }
                case OP_SCHEMA -> schema(record(at, length), at);
                case OP_CHANNEL -> channel(record(at, length), at);
                case OP_MESSAGE -> {
                    return message(record(at, length), at, (int) length);
                }
                case OP_CHUNK -> openChunk(at, length);
                case OP_DATA_END, OP_FOOTER -> {
                    // the end of the data section: what follows (summary, footer) repeats what was read
                    footer = true;
                    return null;
                }
                case OP_MESSAGE_INDEX, OP_CHUNK_INDEX, OP_STATISTICS, OP_SUMMARY_OFFSET, 0x09, 0x0A, 0x0C, 0x0D -> {
                    // indexes, attachments, metadata: not needed to stream the messages
                }
                default -> skippedRecords++;
            }
        }
    }

    private Message truncated(long at) {
        truncatedAt = at;
        return null;
    }

    private ByteBuffer record(long at, long length) {
        if (length > MAX_CHUNK_BYTES) fail(at, "record of " + length + " bytes, above the limit of " + MAX_CHUNK_BYTES);
        byte[] b = new byte[(int) length];
        if (!readFully(at + 9, b)) fail(at, "record cannot be read to its end");
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void schema(ByteBuffer b, long at) {
        int id = u16(b, at, "schema id");
        String name = string(b, at, "schema name");
        String encoding = string(b, at, "schema encoding");
        byte[] data = bytes32(b, at, "schema data");
        schemas.put(id, new Schema(id, name, encoding, data));
    }

    private void channel(ByteBuffer b, long at) {
        int id = u16(b, at, "channel id");
        int schemaId = u16(b, at, "channel schema id");
        String topic = string(b, at, "channel topic");
        String encoding = string(b, at, "channel message encoding");
        long mapLength = u32(b, at, "channel metadata length");
        need(b, mapLength, at, "channel metadata");
        Map<String, String> meta = new LinkedHashMap<>();
        int end = b.position() + (int) mapLength;
        while (b.position() < end) meta.put(string(b, at, "metadata key"), string(b, at, "metadata value"));
        channels.put(id, new Channel(id, schemaId, topic, encoding, meta));
    }

    private Message message(ByteBuffer b, long at, int length) {
        int channelId = u16(b, at, "message channel id");
        long sequence = u32(b, at, "message sequence");
        need(b, 16, at, "message times");
        long logTime = b.getLong(), publishTime = b.getLong();
        byte[] data = new byte[b.remaining()];
        b.get(data);
        Channel ch = channels.get(channelId);
        if (ch == null) fail(at, "message on channel " + channelId + ", which no Channel record declared before it");
        return new Message(ch, sequence, logTime, publishTime, data, at);
    }

    private void openChunk(long at, long length) {
        ByteBuffer h = ByteBuffer.allocate((int) Math.min(length, 4096)).order(ByteOrder.LITTLE_ENDIAN);
        if (!readFully(at + 9, h.array())) {
            truncatedAt = at;
            return;
        }
        need(h, 28, at, "chunk header");
        h.getLong();
        h.getLong();
        long uncompressedSize = h.getLong();
        long crc = h.getInt() & 0xffffffffL;
        String compression = string(h, at, "chunk compression");
        need(h, 8, at, "chunk records length");
        long recordsLength = h.getLong();
        long recordsAt = at + 9 + h.position();
        if (recordsLength < 0 || recordsAt + recordsLength > at + 9 + length) fail(at, "chunk records length " + recordsLength
                + " runs past the chunk record");
        if (uncompressedSize < 0 || uncompressedSize > MAX_CHUNK_BYTES) {
            fail(at, "chunk decompresses to " + uncompressedSize + " bytes, above the limit of " + MAX_CHUNK_BYTES);
        }
        if (recordsLength > MAX_CHUNK_BYTES) fail(at, "chunk of " + recordsLength + " compressed bytes, above the limit");
        byte[] compressed = new byte[(int) recordsLength];
        if (!readFully(recordsAt, compressed)) {
            truncatedAt = at;
            return;
        }
        byte[] records = switch (compression) {
            case "" -> compressed;
            case "zstd" -> zstd(compressed, uncompressedSize, at);
            case "lz4" -> lz4(compressed, uncompressedSize, at);
            default -> throw new SegsaException(file + ": chunk at offset " + at + " is compressed with '" + compression
                    + "', which segsa does not read (zstd, lz4 or none)");
        };
        if (records.length != uncompressedSize) {
            fail(at, "chunk decompressed to " + records.length + " bytes, its record says " + uncompressedSize);
        }
        if (crc != 0) {
            CRC32 c = new CRC32();
            c.update(records);
            if (c.getValue() != crc) {
                fail(at, String.format("chunk CRC mismatch (record says %08x, the data gives %08x)", crc, c.getValue()));
            }
        }
        chunk = ByteBuffer.wrap(records).order(ByteOrder.LITTLE_ENDIAN);
        chunkOffset = at;
    }

    private byte[] zstd(byte[] compressed, long uncompressedSize, long at) {
        try {
            byte[] out = new byte[(int) uncompressedSize];
            long n = Zstd.decompressByteArray(out, 0, out.length, compressed, 0, compressed.length);
            if (n != uncompressedSize) fail(at, "zstd chunk decompressed to " + n + " bytes, its record says " + uncompressedSize);
            return out;
        } catch (RuntimeException e) {
            if (e instanceof SegsaException s) throw s;
            throw new SegsaException(file + ": chunk at offset " + at + ": zstd data is corrupt or inflates past the "
                    + uncompressedSize + " bytes its record declares: " + e.getMessage(), e);
        }
    }

    private byte[] lz4(byte[] compressed, long uncompressedSize, long at) {
        try {
            return Lz4Frames.decode(compressed, (int) uncompressedSize);
        } catch (IllegalArgumentException | IndexOutOfBoundsException | java.nio.BufferUnderflowException e) {
            throw new SegsaException(file + ": chunk at offset " + at + ": lz4 data is corrupt or inflates past the " + uncompressedSize
                    + " bytes its record declares: " + e.getMessage(), e);
        }
    }

    private Message nextInChunk() {
        while (chunk.remaining() > 0) {
            if (chunk.remaining() < 9) fail(chunkOffset, "chunk ends inside a record header");
            int op = chunk.get() & 0xff;
            long length = chunk.getLong();
            if (length < 0 || length > chunk.remaining()) fail(chunkOffset, "a record in the chunk runs past its end");
            ByteBuffer r = chunk.slice(chunk.position(), (int) length).order(ByteOrder.LITTLE_ENDIAN);
            chunk.position(chunk.position() + (int) length);
            switch (op) {
                case OP_SCHEMA -> schema(r, chunkOffset);
                case OP_CHANNEL -> channel(r, chunkOffset);
                case OP_MESSAGE -> {
                    return message(r, chunkOffset, (int) length);
                }
                default -> skippedRecords += op > OP_DATA_END ? 1 : 0;
            }
        }
        return null;
    }

    private boolean readFully(long at, byte[] dst) {
        try {
            ByteBuffer b = ByteBuffer.wrap(dst);
            long p = at;
            while (b.hasRemaining()) {
                int n = in.read(b, p);
                if (n < 0) return false;
                p += n;
            }
            return true;
        } catch (EOFException e) {
            return false;
        } catch (IOException e) {
            throw new SegsaException(file + ": cannot read at offset " + at + ": " + e.getMessage(), e);
        }
    }

    private void fail(long at, String problem) {
        throw new SegsaException(file + ": record at offset " + at + ": " + problem);
    }

    private void need(ByteBuffer b, long n, long at, String what) {
        if (n < 0 || b.remaining() < n) fail(at, what + " runs past the end of its record");
    }

    private int u16(ByteBuffer b, long at, String what) {
        need(b, 2, at, what);
        return b.getShort() & 0xffff;
    }

    private long u32(ByteBuffer b, long at, String what) {
        need(b, 4, at, what);
        return b.getInt() & 0xffffffffL;
    }

    private String string(ByteBuffer b, long at, String what) {
        long n = u32(b, at, what + " length");
        need(b, n, at, what);
        String s = new String(b.array(), b.arrayOffset() + b.position(), (int) n, StandardCharsets.UTF_8);
        b.position(b.position() + (int) n);
        return s;
    }

    private byte[] bytes32(ByteBuffer b, long at, String what) {
        long n = u32(b, at, what + " length");
        need(b, n, at, what);
        byte[] out = new byte[(int) n];
        b.get(out);
        return out;
    }

    /**
     * The summary section: schemas, channels, per-channel message counts, the log's first message
     * time, and the chunk indexes as {start offset, message start time, message end time}.
     */
    record Summary(Map<Integer, Schema> schemas, Map<Integer, Channel> channels, Map<Integer, Long> counts, long messageStart,
                   List<long[]> chunks) {}

    /** Schemas, channels and per-channel message counts of the summary section; null when there is none or it cannot be read. */
    static Summary readSummary(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            long footerAt = size - 8 - 29;
            if (footerAt < 8) return null;
            ByteBuffer f = ByteBuffer.allocate(29 + 8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(f, footerAt);
            if ((f.get(0) & 0xff) != OP_FOOTER || f.getLong(1) != 20) return null;
            for (int i = 0; i < 8; i++) if (f.get(29 + i) != MAGIC[i]) return null;
            long summaryStart = f.getLong(9);
            if (summaryStart <= 8 || summaryStart >= footerAt || footerAt - summaryStart > MAX_CHUNK_BYTES) return null;
            ByteBuffer b = ByteBuffer.allocate((int) (footerAt - summaryStart)).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(b, summaryStart);
            b.flip();
            Map<Integer, Schema> schemas = new LinkedHashMap<>();
            Map<Integer, Channel> channels = new LinkedHashMap<>();
            Map<Integer, Long> counts = new LinkedHashMap<>();
            List<long[]> chunks = new ArrayList<>();
            long messageStart = Long.MIN_VALUE;
            while (b.remaining() >= 9) {
                int op = b.get() & 0xff;
                long len = b.getLong();
                if (len < 0 || len > b.remaining()) return null;
                ByteBuffer r = b.slice(b.position(), (int) len).order(ByteOrder.LITTLE_ENDIAN);
                b.position(b.position() + (int) len);
                if (op == OP_SCHEMA) {
                    int id = r.getShort() & 0xffff;
                    String name = str(r), enc = str(r);
                    byte[] data = new byte[r.getInt()];
                    r.get(data);
                    schemas.put(id, new Schema(id, name, enc, data));
                } else if (op == OP_CHANNEL) {
                    int id = r.getShort() & 0xffff, schemaId = r.getShort() & 0xffff;
                    String topic = str(r), enc = str(r);
                    channels.put(id, new Channel(id, schemaId, topic, enc, Map.of()));
                } else if (op == OP_CHUNK_INDEX) {
                    long start = r.getLong(), end = r.getLong(), offset = r.getLong();
                    chunks.add(new long[] {offset, start, end});
                } else if (op == OP_STATISTICS) {
                    long count = r.getLong();
                    r.getShort();
                    r.getInt();
                    r.getInt();
                    r.getInt();
                    r.getInt();
                    long start = r.getLong();
                    r.getLong();
                    if (count > 0) messageStart = start;
                    int mapLen = r.getInt();
                    int end = r.position() + mapLen;
                    while (r.position() < end) counts.put(r.getShort() & 0xffff, r.getLong());
                }
            }
            chunks.sort(java.util.Comparator.comparingLong(c -> c[0]));
            return channels.isEmpty() ? null : new Summary(schemas, channels, counts, messageStart, chunks);
        } catch (IOException | RuntimeException e) {
            return null;  // no usable summary: the caller streams the file instead
        }
    }

    private static String str(ByteBuffer r) {
        int n = r.getInt();
        byte[] s = new byte[n];
        r.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private Summary summary;
    private boolean summaryRead;

    /** The file's summary section, read once (null when it has none or it cannot be read). */
    Summary summary() {
        if (!summaryRead) {
            summaryRead = true;
            summary = readSummary(file);
        }
        return summary;
    }

    /**
     * Before the first {@link #next()}: with a summary section, takes its schemas and channels, and
     * when {@code fromSeconds} is past the log's start, moves to the first chunk whose messages
     * reach that time. Returns the log's first message time (ns), or Long.MIN_VALUE without a
     * summary (nothing changed: the file streams from its start).
     */
    public long seekStart(double fromSeconds) {
        Summary s = summary();
        if (s == null || s.messageStart() == Long.MIN_VALUE) return Long.MIN_VALUE;
        schemas.putAll(s.schemas());
        for (Channel c : s.channels().values()) channels.putIfAbsent(c.id(), c);
        if (fromSeconds > 0 && !s.chunks().isEmpty()) {
            long target = s.messageStart() + (long) (fromSeconds * 1e9);
            for (long[] c : s.chunks()) {
                if (c[2] >= target) {
                    if (c[0] > position && c[0] < size) position = c[0];
                    break;
                }
            }
        }
        return s.messageStart();
    }

    @Override
    public void close() {
        try {
            if (in != null) in.close();
        } catch (IOException ignored) {
            // read-only
        }
    }
}
