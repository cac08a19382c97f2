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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * Reads the records of an MCAP file (https://mcap.dev/spec): schemas, channels and messages,
 * inside chunks or not; chunks compressed with zstd (zstd-jni), lz4 (LZ4 frame format:
 * {@link Lz4Frames}, checksums by lz4-java) or not at all, their CRC checked when the writer set
 * one. No maintained JVM MCAP library exists (the official ones are C++, Go, Python, Rust, Swift and
 * TypeScript), so this record layer is segsa's own; it is tested against files written by the
 * official TypeScript library ({@code tools/mcap}).
 *
 * <p>Two orders. {@link #next()} gives the messages in file order, which MCAP does not require to
 * be log-time order. After {@link #orderByLogTime}, it gives the messages of some channels in
 * log-time order, read through the summary's chunk indexes (chunks loaded by their
 * {@code message_start_time}, their messages merged) and, where the chunks have them, the message
 * indexes (chunks without a message of those channels in a time window are counted, not read).
 *
 * <p>Memory is bounded whatever the file's size: one record at a time and one chunk's decompressed
 * records (at most {@link #MAX_CHUNK_BYTES}); in log-time order, the chunks that overlap in time at
 * most {@link #MAX_REORDER_BYTES} together (else the file is read in file order). Unknown opcodes
 * are skipped (the spec asks it).
 *
 * <p>A file <em>cut short</em> (a recorder killed mid-write) has no footer and magic at its end: it
 * is read up to its last complete record and {@link #truncatedAt()} says where it ended. A file that
 * ends with its footer and magic ({@link #hasFooter()}) was finished, so a record length that runs
 * past its footer is corruption, not a cut: an error naming the record's offset, or with
 * {@code skipBadChunks} a skip to the next chunk the chunk indexes list ({@link #skippedRanges()});
 * a chunk that cannot be read (CRC, compressed data, its records, a length that disagrees with its
 * chunk index) is skipped the same way. Every error is one {@link SegsaException} naming the file,
 * the record's offset and the problem.
 */
public final class McapReader implements AutoCloseable {
    /** The largest decompressed chunk or record accepted: 256 MiB. */
    public static final long MAX_CHUNK_BYTES = 256L << 20;
    /**
     * The most decompressed chunk data that reading in log-time order may need at once (chunks that
     * overlap in time are held together): 256 MiB; past it the file is read in file order.
     */
    public static final long MAX_REORDER_BYTES = 256L << 20;

    static final byte[] MAGIC = {(byte) 0x89, 'M', 'C', 'A', 'P', '0', '\r', '\n'};
    static final int OP_HEADER = 0x01, OP_FOOTER = 0x02, OP_SCHEMA = 0x03, OP_CHANNEL = 0x04, OP_MESSAGE = 0x05, OP_CHUNK = 0x06,
            OP_MESSAGE_INDEX = 0x07, OP_CHUNK_INDEX = 0x08, OP_STATISTICS = 0x0B, OP_SUMMARY_OFFSET = 0x0E, OP_DATA_END = 0x0F;
    private static final int FOOTER_BYTES = 9 + 20, TAIL_BYTES = FOOTER_BYTES + 8;

    public record Schema(int id, String name, String encoding, byte[] data) {}

    public record Channel(int id, int schemaId, String topic, String messageEncoding, Map<String, String> metadata) {}

    /** A message: its channel, times in nanoseconds, payload, and the file offset of its record (or of its chunk). */
    public record Message(Channel channel, long sequence, long logTime, long publishTime, byte[] data, long offset) {}

    /**
     * Bytes {@code [start, end)} of the file passed over with {@code skipBadChunks}: why (the record's
     * offset and the problem), and how many messages of the channels read in log-time order were
     * lost there by the message indexes (-1 when not known).
     */
    public record SkippedRange(long start, long end, String reason, long messages) {}

    private final Path file;
    private final FileChannel in;
    private final long size;
    private final boolean skipBadChunks;
    private final long footerAt;    // the footer record's offset when the file ends with footer and magic, else -1
    private final long dataLimit;   // where the data section must end: the footer, or the file's end
    private final Map<Integer, Schema> schemas = new LinkedHashMap<>();
    private final Map<Integer, Channel> channels = new LinkedHashMap<>();
    private final List<SkippedRange> skipped = new ArrayList<>();
    private long position;
    private ByteBuffer chunk;       // the current chunk's decompressed records (file order)
    private long chunkOffset;
    private String profile = "", library = "";
    private boolean footer;
    private boolean started;
    private long truncatedAt = -1;
    private long skippedRecords;

    public McapReader(Path file) {
        this(file, false);
    }

    /**
     * @param skipBadChunks go on past a chunk that cannot be read, or a record whose length is
     *                      impossible in a complete file, at the next chunk of the chunk indexes;
     *                      what was passed over is in {@link #skippedRanges()}. Without it these are errors.
     */
    public McapReader(Path file, boolean skipBadChunks) {
        this.file = file;
        this.skipBadChunks = skipBadChunks;
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
        long f = -1, limit = size;
        if (size >= 8 + TAIL_BYTES) {
            ByteBuffer t = ByteBuffer.allocate(TAIL_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            if (readFully(size - TAIL_BYTES, t.array()) && (t.get(0) & 0xff) == OP_FOOTER && t.getLong(1) == 20
                    && java.util.Arrays.equals(java.util.Arrays.copyOfRange(t.array(), FOOTER_BYTES, TAIL_BYTES), MAGIC)) {
                f = size - TAIL_BYTES;
                limit = f;
            }
        }
        this.footerAt = f;
        this.dataLimit = limit;
        // the header (profile, library) is the first record: read at once, so it is known however the messages are read
        ByteBuffer h = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN);
        if (size >= 17 && readFully(8, h.array()) && (h.get(0) & 0xff) == OP_HEADER) {
            long length = h.getLong(1);
            if (length >= 8 && length <= 1 << 20 && 17 + length <= size) {
                try {
                    ByteBuffer b = record(8, length);
                    profile = string(b, 8, "profile");
                    library = string(b, 8, "library");
                } catch (SegsaException e) {
                    // a damaged header is reported when the records are read in order
                }
            }
        }
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

    /** Whether the file ends with a footer record and the magic: it was finished, so it cannot have been cut short. */
    public boolean hasFooter() {
        return footerAt >= 0;
    }

    /** Where a file cut short ended (-1 when it was not): the offset of its incomplete record. */
    public long truncatedAt() {
        return truncatedAt;
    }

    /** Records of unknown opcodes skipped. */
    public long skippedRecords() {
        return skippedRecords;
    }

    /** The parts of the file passed over with {@code skipBadChunks}, in the order met. */
    public List<SkippedRange> skippedRanges() {
        return List.copyOf(skipped);
    }

    /** The next message (in file order, or in log-time order after {@link #orderByLogTime}), or null at the end of the data. */
    public Message next() {
        started = true;
        if (ordered) return nextOrdered();
        while (true) {
            if (chunk != null) {
                Message m = nextInChunk();
                if (m != null) return m;
                chunk = null;
                continue;
            }
            if (footer || truncatedAt >= 0 || position >= size) return null;
            long at = position;
            if (footerAt >= 0 && at >= dataLimit) {
                footer = true;  // at the footer
                return null;
            }
            if (size - at < 9) return truncated(at);
            ByteBuffer head = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN);
            if (!readFully(at, head.array())) return truncated(at);
            int op = head.get(0) & 0xff;
            long length = head.getLong(1);
            if (length < 0 || length > dataLimit - at - 9) {
                // without a footer: the recorder was stopped mid-record (or the file was cut), everything before it was read;
                // with one the file was finished, and the length is wrong
                if (footerAt < 0) return truncated(at);
                String problem = impossibleLength(at, length);
                if (resumeAfter(at, problem)) continue;
                throw new SegsaException(file + ": " + problem + (skipBadChunks ? "; no chunk index to resume from" : ""));
            }
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
                    return message(record(at, length), at);
                }
                case OP_CHUNK -> {
                    try {
                        ByteBuffer records = openChunk(at, length, null);
                        if (records == null) {
                            truncatedAt = at;
                        } else {
                            chunk = records;
                            chunkOffset = at;
                        }
                    } catch (RecordException e) {
                        if (!skipBadChunks) throw e;
                        skipped.add(new SkippedRange(at, at + 9 + length, e.reason, -1));
                    }
                }
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

    /** The problem of a record length that cannot be, in a file that ends with its footer. */
    private String impossibleLength(long at, long length) {
        String declared = Long.toUnsignedString(length);
        if (length < 0 || length > size - at - 9) {
            return "record at offset " + at + " declares length " + declared + " beyond the end of the file (the log is corrupt, not cut short)";
        }
        return "record at offset " + at + " declares length " + declared + ", past the footer at offset " + dataLimit
                + " (the log is corrupt, not cut short)";
    }

    /** With skipBadChunks: go on at the first chunk of the chunk indexes after {@code at} (or end the data); false when there are none. */
    private boolean resumeAfter(long at, String problem) {
        if (!skipBadChunks) return false;
        Summary s = summary();
        if (s == null || s.chunks().isEmpty()) return false;
        long next = -1;
        for (ChunkIndex c : s.chunks()) {
            if (c.offset() > at && opcodeAt(c.offset()) == OP_CHUNK) {
                next = c.offset();
                break;
            }
        }
        skipped.add(new SkippedRange(at, next < 0 ? dataLimit : next, problem, -1));
        if (next < 0) footer = true;
        else position = next;
        return true;
    }

    /** The opcode of the record at {@code at}, -1 when it cannot be read. */
    private int opcodeAt(long at) {
        byte[] b = new byte[1];
        return at < size && readFully(at, b) ? b[0] & 0xff : -1;
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

    private Message message(ByteBuffer b, long at) {
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

    /**
     * The chunk record at {@code at}: decompressed, CRC checked, its records walked (schemas and
     * channels registered, every record's length and every message's header checked), so that a
     * chunk is read whole or not at all. {@code index} (when read through the chunk indexes) must
     * agree with the record. Null when the file ends inside it.
     */
    private ByteBuffer openChunk(long at, long length, ChunkIndex index) {
        ByteBuffer h = ByteBuffer.allocate((int) Math.min(length, 4096)).order(ByteOrder.LITTLE_ENDIAN);
        if (!readFully(at + 9, h.array())) return null;
        need(h, 28, at, "chunk header");
        long start = h.getLong(), end = h.getLong();
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
        if (index != null && (start != index.start() || end != index.end() || uncompressedSize != index.uncompressedSize())) {
            fail(at, "chunk record (log times " + start + ".." + end + ", " + uncompressedSize + " bytes decompressed) disagrees with its "
                    + "chunk index (" + index.start() + ".." + index.end() + ", " + index.uncompressedSize() + " bytes)");
        }
        if (recordsLength > MAX_CHUNK_BYTES) fail(at, "chunk of " + recordsLength + " compressed bytes, above the limit");
        byte[] compressed = new byte[(int) recordsLength];
        if (!readFully(recordsAt, compressed)) return null;
        byte[] records = switch (compression) {
            case "" -> compressed;
            case "zstd" -> zstd(compressed, uncompressedSize, at);
            case "lz4" -> lz4(compressed, uncompressedSize, at);
            default -> throw new RecordException(file, "record at offset " + at + ": chunk is compressed with '" + compression
                    + "', which segsa does not read (zstd, lz4 or none)", null);
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
        ByteBuffer b = ByteBuffer.wrap(records).order(ByteOrder.LITTLE_ENDIAN);
        walkChunk(b.duplicate().order(ByteOrder.LITTLE_ENDIAN), at);
        return b;
    }

    /** Checks every record of a chunk and registers its schemas and channels. */
    private void walkChunk(ByteBuffer b, long at) {
        while (b.remaining() > 0) {
            if (b.remaining() < 9) fail(at, "chunk ends inside a record header");
            int op = b.get() & 0xff;
            long length = b.getLong();
            if (length < 0 || length > b.remaining()) fail(at, "a record in the chunk runs past its end");
            ByteBuffer r = b.slice(b.position(), (int) length).order(ByteOrder.LITTLE_ENDIAN);
            b.position(b.position() + (int) length);
            switch (op) {
                case OP_SCHEMA -> schema(r, at);
                case OP_CHANNEL -> channel(r, at);
                case OP_MESSAGE -> {
                    int channelId = u16(r, at, "message channel id");
                    need(r, 4 + 16, at, "message header");
                    if (!channels.containsKey(channelId)) {
                        fail(at, "message on channel " + channelId + ", which no Channel record declared before it");
                    }
                }
                default -> skippedRecords += op > OP_DATA_END ? 1 : 0;
            }
        }
    }

    private byte[] zstd(byte[] compressed, long uncompressedSize, long at) {
        try {
            byte[] out = new byte[(int) uncompressedSize];
            long n = Zstd.decompressByteArray(out, 0, out.length, compressed, 0, compressed.length);
            if (n != uncompressedSize) fail(at, "zstd chunk decompressed to " + n + " bytes, its record says " + uncompressedSize);
            return out;
        } catch (RuntimeException e) {
            if (e instanceof SegsaException s) throw s;
            throw new RecordException(file, "record at offset " + at + ": zstd data is corrupt or inflates past the " + uncompressedSize
                    + " bytes its record declares: " + e.getMessage(), e);
        }
    }

    private byte[] lz4(byte[] compressed, long uncompressedSize, long at) {
        try {
            return Lz4Frames.decode(compressed, (int) uncompressedSize);
        } catch (IllegalArgumentException | IndexOutOfBoundsException | java.nio.BufferUnderflowException e) {
            throw new RecordException(file, "record at offset " + at + ": lz4 data is corrupt or inflates past the " + uncompressedSize
                    + " bytes its record declares: " + e.getMessage(), e);
        }
    }

    /** The next message of the current chunk (file order); its records were checked when it was opened. */
    private Message nextInChunk() {
        while (chunk.remaining() > 0) {
            int op = chunk.get() & 0xff;
            long length = chunk.getLong();
            ByteBuffer r = chunk.slice(chunk.position(), (int) length).order(ByteOrder.LITTLE_ENDIAN);
            chunk.position(chunk.position() + (int) length);
            if (op == OP_MESSAGE) return message(r, chunkOffset);
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
        throw new RecordException(file, "record at offset " + at + ": " + problem, null);
    }

    /** A record that cannot be read: what {@code skipBadChunks} passes over. {@code reason} is the message without the file. */
    private static final class RecordException extends SegsaException {
        final String reason;

        RecordException(Path file, String reason, Throwable cause) {
            super(file + ": " + reason, cause);
            this.reason = reason;
        }
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

    // ---------------------------------------------------------------------------------------------
    // the summary section

    /**
     * A Chunk Index record: the chunk's log times, where its record is and how long, where its
     * message indexes are (by channel; empty when the writer wrote none), its decompressed size.
     */
    record ChunkIndex(long start, long end, long offset, long length, Map<Integer, Long> messageIndexOffsets, long uncompressedSize) {}

    /**
     * The summary section: schemas, channels, per-channel message counts (the statistics; empty
     * without them), the log's first message time (the statistics', else the earliest chunk
     * index's; Long.MIN_VALUE when neither is there), and the chunk indexes in file order (empty
     * when there are none or one of them cannot be: they are then not used at all).
     */
    record Summary(Map<Integer, Schema> schemas, Map<Integer, Channel> channels, Map<Integer, Long> counts, long messageStart,
                   List<ChunkIndex> chunks) {}

    /** The summary section; null when there is none or it cannot be read. */
    static Summary readSummary(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            long footerAt = size - TAIL_BYTES;
            if (footerAt < 8) return null;
            ByteBuffer f = ByteBuffer.allocate(TAIL_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(f, footerAt);
            if ((f.get(0) & 0xff) != OP_FOOTER || f.getLong(1) != 20) return null;
            for (int i = 0; i < 8; i++) if (f.get(FOOTER_BYTES + i) != MAGIC[i]) return null;
            long summaryStart = f.getLong(9);
            if (summaryStart <= 8 || summaryStart >= footerAt || footerAt - summaryStart > MAX_CHUNK_BYTES) return null;
            ByteBuffer b = ByteBuffer.allocate((int) (footerAt - summaryStart)).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(b, summaryStart);
            b.flip();
            Map<Integer, Schema> schemas = new LinkedHashMap<>();
            Map<Integer, Channel> channels = new LinkedHashMap<>();
            Map<Integer, Long> counts = new LinkedHashMap<>();
            List<ChunkIndex> chunks = new ArrayList<>();
            long statsStart = Long.MIN_VALUE;
            boolean statistics = false;
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
                    long start = r.getLong(), end = r.getLong(), offset = r.getLong(), length = r.getLong();
                    int mapLen = r.getInt();
                    if (mapLen < 0 || mapLen % 10 != 0 || mapLen > r.remaining()) return null;
                    Map<Integer, Long> indexes = new LinkedHashMap<>();
                    for (int i = 0; i < mapLen / 10; i++) indexes.put(r.getShort() & 0xffff, r.getLong());
                    r.getLong();  // message index length
                    str(r);       // compression
                    r.getLong();  // compressed size
                    long uncompressed = r.getLong();
                    chunks.add(new ChunkIndex(start, end, offset, length, indexes, uncompressed));
                } else if (op == OP_STATISTICS) {
                    long count = r.getLong();
                    r.getShort();
                    r.getInt();
                    r.getInt();
                    r.getInt();
                    r.getInt();
                    long start = r.getLong();
                    r.getLong();
                    statistics = true;
                    if (count > 0) statsStart = start;
                    int mapLen = r.getInt();
                    int end = r.position() + mapLen;
                    while (r.position() < end) counts.put(r.getShort() & 0xffff, r.getLong());
                }
            }
            chunks.sort(Comparator.comparingLong(ChunkIndex::offset));
            // chunk indexes that cannot be (outside the data section, overlapping, times reversed) are not used
            long after = 8;
            for (ChunkIndex c : chunks) {
                if (c.offset() < after || c.length() < 9 || c.length() > summaryStart - c.offset() || c.start() > c.end()
                        || c.uncompressedSize() < 0 || c.uncompressedSize() > MAX_CHUNK_BYTES) {
                    chunks.clear();
                    break;
                }
                after = c.offset() + c.length();
            }
            long messageStart = statistics ? statsStart : Long.MIN_VALUE;
            if (!statistics) for (ChunkIndex c : chunks) messageStart = messageStart == Long.MIN_VALUE ? c.start() : Math.min(messageStart, c.start());
            if (channels.isEmpty() && chunks.isEmpty() && !statistics) return null;
            return new Summary(schemas, channels, counts, messageStart, List.copyOf(chunks));
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
     * The log's first message time (ns) by the summary section: its statistics, else its chunk
     * indexes; Long.MIN_VALUE when it has neither (the caller takes the first message read). Takes
     * the summary's schemas and channels too.
     */
    public long logStart() {
        Summary s = summary();
        if (s == null) return Long.MIN_VALUE;
        schemas.putAll(s.schemas());
        for (Channel c : s.channels().values()) channels.putIfAbsent(c.id(), c);
        return s.messageStart();
    }

    // ---------------------------------------------------------------------------------------------
    // log-time order through the indexes

    /**
     * A chunk and its messages of the channels read, by its message indexes: before, within and
     * after the time window ({@code indexed} false: it has no usable message index, counts 0).
     */
    private record Planned(ChunkIndex chunk, boolean indexed, long before, long within, long after) {
        long messages() {
            return indexed ? before + within + after : -1;
        }
    }

    /** A message waiting in the merge, with where it was in the file (ties in log time keep file order). */
    private record Queued(Message message, long chunkOffset, int position) {}

    private boolean ordered;
    private List<Planned> toLoad = List.of();
    private int nextLoad;
    private Set<Integer> orderedChannels = Set.of();
    private final PriorityQueue<Queued> merge = new PriorityQueue<>(Comparator.comparingLong((Queued q) -> q.message().logTime())
            .thenComparingLong(Queued::chunkOffset).thenComparingInt(Queued::position));
    private long unreadBefore, unreadAfter;
    private String fileOrderReason;
    int chunksLoaded;  // for tests: chunks decompressed in log-time order

    /**
     * Before the first {@link #next()}: from then on {@link #next()} gives the messages of
     * {@code channelIds} (and only those) in log-time order, ties in file order, read through the
     * chunk indexes. Chunks whose message indexes show no message of these channels within
     * [{@code fromNs}, {@code toNs}] are not read: their messages of these channels are counted in
     * {@link #unreadBefore()} / {@link #unreadAfter()}. Returns false (and nothing changes: file
     * order) when the file's indexes do not allow it, {@link #fileOrderReason()} says why: no
     * summary, no chunk index, a chunk index that points at no chunk, a channel the summary does not list, message indexes that disagree
     * with the statistics' counts (messages outside chunks), or chunks overlapping in time over
     * {@link #MAX_REORDER_BYTES}.
     */
    public boolean orderByLogTime(Set<Integer> channelIds, long fromNs, long toNs) {
        if (started) throw new IllegalStateException("orderByLogTime is called before the first next()");
        Summary s = summary();
        if (s == null) return fileOrder("the file has no summary section");
        if (s.chunks().isEmpty()) return fileOrder("the summary has no (usable) chunk index");
        for (int id : channelIds) if (!s.channels().containsKey(id)) return fileOrder("the summary does not list channel " + id);
        List<Planned> plan = new ArrayList<>();
        boolean allIndexed = true;
        long indexedMessages = 0;
        for (ChunkIndex c : s.chunks()) {
            if (opcodeAt(c.offset()) != OP_CHUNK) return fileOrder("a chunk index points at offset " + c.offset() + ", where no chunk starts");
            Planned p = countIndexed(c, channelIds, fromNs, toNs);
            if (!p.indexed()) allIndexed = false;
            indexedMessages += p.messages();
            plan.add(p);
        }
        if (allIndexed && !s.counts().isEmpty()) {
            long counted = 0;
            for (int id : channelIds) counted += s.counts().getOrDefault(id, 0L);
            if (counted != indexedMessages) {
                return fileOrder("the message indexes list " + indexedMessages + " messages of the channel, the statistics "
                        + counted + " (messages outside chunks?)");
            }
        }
        List<Planned> load = new ArrayList<>();
        long before = 0, after = 0;
        for (Planned p : plan) {
            if (!p.indexed() || p.within() > 0) {
                load.add(p);
            } else {
                before += p.before();
                after += p.after();
            }
        }
        load.sort(Comparator.comparingLong((Planned p) -> p.chunk().start()).thenComparingLong(p -> p.chunk().offset()));
        // a chunk is held from when it is read until its last message is given: those that overlap in time are held together
        PriorityQueue<ChunkIndex> held = new PriorityQueue<>(Comparator.comparingLong(ChunkIndex::end));
        long heldBytes = 0;
        for (Planned p : load) {
            while (!held.isEmpty() && held.peek().end() < p.chunk().start()) heldBytes -= held.poll().uncompressedSize();
            held.add(p.chunk());
            heldBytes += p.chunk().uncompressedSize();
            if (held.size() > 1 && heldBytes > MAX_REORDER_BYTES) {
                return fileOrder("its chunks overlap in log time over more than " + (MAX_REORDER_BYTES >> 20) + " MiB");
            }
        }
        logStart();
        ordered = true;
        toLoad = load;
        orderedChannels = Set.copyOf(channelIds);
        unreadBefore = before;
        unreadAfter = after;
        return true;
    }

    private boolean fileOrder(String reason) {
        fileOrderReason = reason;
        return false;
    }

    /** Whether {@link #next()} gives messages in log-time order ({@link #orderByLogTime} succeeded). */
    public boolean inLogTimeOrder() {
        return ordered;
    }

    /** Why the file is read in file order after {@link #orderByLogTime} returned false (null otherwise). */
    public String fileOrderReason() {
        return fileOrderReason;
    }

    /** In log-time order: messages of the channels before {@code fromNs} in chunks that were not read (by their message indexes). */
    public long unreadBefore() {
        return unreadBefore;
    }

    /** In log-time order: messages of the channels after {@code toNs} in chunks that were not read. */
    public long unreadAfter() {
        return unreadAfter;
    }

    /**
     * The chunk's messages of these channels before, within and after [fromNs, toNs] by its message
     * indexes; not indexed when it has none or one of them cannot be read (the chunk is then read).
     */
    private Planned countIndexed(ChunkIndex c, Set<Integer> channelIds, long fromNs, long toNs) {
        Planned none = new Planned(c, false, 0, 0, 0);
        if (c.messageIndexOffsets().isEmpty()) return none;
        long before = 0, within = 0, after = 0;
        for (int id : channelIds) {
            Long off = c.messageIndexOffsets().get(id);
            if (off == null) continue;  // no message of this channel in the chunk
            if (off < c.offset() + c.length() || off > dataLimit - 9 - 6) return none;
            ByteBuffer h = ByteBuffer.allocate(9 + 6).order(ByteOrder.LITTLE_ENDIAN);
            if (!readFully(off, h.array())) return none;
            long len = h.getLong(1);
            long bytes = h.getInt(11) & 0xffffffffL;
            if ((h.get(0) & 0xff) != OP_MESSAGE_INDEX || (h.getShort(9) & 0xffff) != id || len != 6 + bytes || bytes % 16 != 0
                    || len > dataLimit - off - 9) {
                return none;
            }
            // read in blocks: the entries' size is the file's word
            byte[] block = new byte[(int) Math.min(bytes, 1 << 16)];
            for (long done = 0; done < bytes; ) {
                int n = (int) Math.min(block.length, bytes - done);
                if (!readFully(off + 9 + 6 + done, n == block.length ? block : (block = new byte[n]))) return none;
                ByteBuffer e = ByteBuffer.wrap(block, 0, n).order(ByteOrder.LITTLE_ENDIAN);
                while (e.remaining() >= 16) {
                    long t = e.getLong(), at = e.getLong();
                    if (t < c.start() || t > c.end() || at < 0 || at > c.uncompressedSize() - 9) return none;
                    if (t < fromNs) before++;
                    else if (t > toNs) after++;
                    else within++;
                }
                done += n;
            }
        }
        return new Planned(c, true, before, within, after);
    }

    private Message nextOrdered() {
        while (nextLoad < toLoad.size() && (merge.isEmpty() || toLoad.get(nextLoad).chunk().start() <= merge.peek().message().logTime())) {
            load(toLoad.get(nextLoad++));
        }
        Queued q = merge.poll();
        if (q == null) {
            footer = true;
            return null;
        }
        return q.message();
    }

    /** Reads one chunk found through the chunk indexes into the merge (all of its messages of the channels, or with skipBadChunks none). */
    private void load(Planned p) {
        ChunkIndex c = p.chunk();
        long at = c.offset();
        try {
            ByteBuffer head = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN);
            if (!readFully(at, head.array())) fail(at, "the chunk index points past the end of the file");
            int op = head.get(0) & 0xff;
            long length = head.getLong(1);
            if (op != OP_CHUNK) fail(at, String.format("the chunk index points at a record of opcode 0x%02x, not a chunk", op));
            if (length < 0 || length > size - at - 9) throw new RecordException(file, impossibleLength(at, length), null);
            if (9 + length != c.length()) fail(at, "chunk record of " + (9 + length) + " bytes, its chunk index says " + c.length());
            ByteBuffer records = openChunk(at, length, c);
            if (records == null) fail(at, "the chunk cannot be read to its end");
            chunksLoaded++;
            List<Queued> found = new ArrayList<>();
            while (records.remaining() > 0) {
                int position = records.position();
                int rop = records.get() & 0xff;
                long rlength = records.getLong();
                ByteBuffer r = records.slice(records.position(), (int) rlength).order(ByteOrder.LITTLE_ENDIAN);
                records.position(records.position() + (int) rlength);
                if (rop != OP_MESSAGE || !orderedChannels.contains(r.getShort(0) & 0xffff)) continue;
                Message m = message(r, at);
                if (m.logTime() < c.start() || m.logTime() > c.end()) {
                    fail(at, "chunk holds a message at log time " + m.logTime() + ", outside its log times " + c.start() + ".." + c.end());
                }
                found.add(new Queued(m, at, position));
            }
            merge.addAll(found);
        } catch (RecordException e) {
            if (!skipBadChunks) throw e;
            skipped.add(new SkippedRange(at, at + c.length(), e.reason, p.messages()));
        }
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
