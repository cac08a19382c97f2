package dev.segsa.mcap;

import com.github.luben.zstd.Zstd;
import dev.segsa.error.SegsaException;
import dev.segsa.io.AtomicOutput;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;

/**
 * Writes an MCAP file (https://mcap.dev/spec) as recorders do: records in zstd-compressed chunks
 * of about 1 MiB with their message indexes, a data-end record with the data section's CRC, and a
 * summary section (schemas, channels, statistics, chunk indexes, summary offsets) and footer with
 * the summary's CRC, so that Foxglove and the official readers can seek it. Written to a temporary
 * file beside the target and renamed at {@link #close()} (nothing half-written is left at the
 * target's path); {@link #abort()} removes the temporary. Not thread-safe.
 */
public final class McapWriter implements AutoCloseable {
    private static final int CHUNK_TARGET = 1 << 20;

    private final int chunkTarget;
    private final Path target, temp;
    private final OutputStream out;
    private final CRC32 dataCrc = new CRC32();
    private long position;
    private final Map<String, Integer> schemaIds = new LinkedHashMap<>();
    private final List<byte[]> schemaRecords = new ArrayList<>();
    private final Map<String, Integer> channelIds = new LinkedHashMap<>();
    private final List<byte[]> channelRecords = new ArrayList<>();
    private final Map<Integer, Long> channelCounts = new TreeMap<>();
    private final List<byte[]> chunkIndexes = new ArrayList<>();
    private final ByteArrayOutputStream chunk = new ByteArrayOutputStream();
    private final Map<Integer, ByteArrayOutputStream> chunkMessageIndex = new TreeMap<>();
    private long chunkStart = Long.MAX_VALUE, chunkEnd = Long.MIN_VALUE;
    private final List<Integer> chunkNewSchemas = new ArrayList<>(), chunkNewChannels = new ArrayList<>();
    private long messages, chunks, firstTime = Long.MAX_VALUE, lastTime = Long.MIN_VALUE;
    private boolean closed;
    private boolean closedData;

    public McapWriter(Path target, String profile, String library) {
        this(target, profile, library, CHUNK_TARGET);
    }

    /** With chunks closed at {@code chunkTarget} bytes of records (tests: files of several small chunks). */
    McapWriter(Path target, String profile, String library, int chunkTarget) {
        this.target = target;
        this.chunkTarget = chunkTarget;
        try {
            Path dir = target.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            // created with the default permissions (0666 less the umask), as any file the user writes; a temporary file API's 0600
            // would stay on the output after the rename
            this.temp = dir.resolve("." + target.getFileName() + AtomicOutput.TEMP_MARK + ProcessHandle.current().pid() + "-"
                    + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + ".mcap");
            this.out = new java.io.BufferedOutputStream(Files.newOutputStream(temp, java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.WRITE), 1 << 16);
        } catch (IOException e) {
            throw new SegsaException(target + ": cannot write: " + e.getMessage(), e);
        }
        write(McapReader.MAGIC);
        Rec h = new Rec(McapReader.OP_HEADER);
        h.string(profile);
        h.string(library);
        write(h.bytes());
    }

    /** A channel of JSON messages with a JSON schema (registered once per topic). Returns its id. */
    public int jsonChannel(String topic, String schemaName, String jsonSchema) {
        return channel(topic, "json", schemaName, "jsonschema", jsonSchema.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A channel of any message encoding with its schema (e.g. a camera channel copied through:
     * "cdr" with a "ros2msg" schema), registered once per topic. Returns its id.
     */
    public int channel(String topic, String messageEncoding, String schemaName, String schemaEncoding, byte[] schemaData) {
        Integer id = channelIds.get(topic);
        if (id != null) return id;
        String schemaKey = schemaName + "\u0000" + schemaEncoding;
        Integer schemaId = schemaIds.get(schemaKey);
        if (schemaId == null) {
            schemaId = schemaIds.size() + 1;
            schemaIds.put(schemaKey, schemaId);
            Rec s = new Rec(McapReader.OP_SCHEMA);
            s.u16(schemaId);
            s.string(schemaName);
            s.string(schemaEncoding);
            s.bytes32(schemaData);
            schemaRecords.add(s.bytes());
            chunkNewSchemas.add(schemaRecords.size() - 1);
        }
        id = channelIds.size();
        channelIds.put(topic, id);
        Rec c = new Rec(McapReader.OP_CHANNEL);
        c.u16(id);
        c.u16(schemaId);
        c.string(topic);
        c.string(messageEncoding);
        c.u32(0);  // no metadata
        channelRecords.add(c.bytes());
        chunkNewChannels.add(channelRecords.size() - 1);
        channelCounts.put(id, 0L);
        return id;
    }

    /** A Metadata record (name and string pairs, e.g. what wrote the file), in the data section. */
    public void metadata(String name, java.util.Map<String, String> values) {
        if (closed) throw new IllegalStateException("the MCAP writer is closed");
        Rec map = new Rec(0);
        for (var e : values.entrySet()) {
            map.string(e.getKey());
            map.string(e.getValue());
        }
        Rec m = new Rec(0x0C);
        m.string(name);
        m.bytes32(map.b.toByteArray());
        write(m.bytes());
    }

    /** Adds a message at {@code logTime} ns (publish time the same). */
    public void message(int channel, long logTime, byte[] data) {
        if (closed) throw new IllegalStateException("the MCAP writer is closed");
        // the schema and channel records go into the chunk before their first message
        for (int s : chunkNewSchemas) chunk.writeBytes(schemaRecords.get(s));
        for (int c : chunkNewChannels) chunk.writeBytes(channelRecords.get(c));
        chunkNewSchemas.clear();
        chunkNewChannels.clear();
        Rec m = new Rec(McapReader.OP_MESSAGE);
        m.u16(channel);
        m.u32(channelCounts.get(channel));
        m.u64(logTime);
        m.u64(logTime);
        m.raw(data);
        ByteArrayOutputStream idx = chunkMessageIndex.computeIfAbsent(channel, k -> new ByteArrayOutputStream());
        ByteBuffer e = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        e.putLong(logTime).putLong(chunk.size());
        idx.writeBytes(e.array());
        chunk.writeBytes(m.bytes());
        channelCounts.merge(channel, 1L, Long::sum);
        messages++;
        chunkStart = Math.min(chunkStart, logTime);
        chunkEnd = Math.max(chunkEnd, logTime);
        firstTime = Math.min(firstTime, logTime);
        lastTime = Math.max(lastTime, logTime);
        if (chunk.size() >= chunkTarget) flushChunk();
    }

    /** Closes the current chunk now (the next message starts another). */
    void endChunk() {
        flushChunk();
    }

    private void flushChunk() {
        if (chunk.size() == 0) return;
        byte[] records = chunk.toByteArray();
        CRC32 crc = new CRC32();
        crc.update(records);
        byte[] compressed = Zstd.compress(records, 3);
        long chunkAt = position;
        Rec c = new Rec(McapReader.OP_CHUNK);
        c.u64(chunkStart);
        c.u64(chunkEnd);
        c.u64(records.length);
        c.u32(crc.getValue());
        c.string("zstd");
        c.u64(compressed.length);
        c.raw(compressed);
        byte[] chunkRecord = c.bytes();
        write(chunkRecord);
        long indexStart = position;
        Map<Integer, Long> indexOffsets = new TreeMap<>();
        for (Map.Entry<Integer, ByteArrayOutputStream> e : chunkMessageIndex.entrySet()) {
            indexOffsets.put(e.getKey(), position);
            Rec mi = new Rec(McapReader.OP_MESSAGE_INDEX);
            mi.u16(e.getKey());
            byte[] entries = e.getValue().toByteArray();
            mi.u32(entries.length);
            mi.raw(entries);
            write(mi.bytes());
        }
        Rec ci = new Rec(McapReader.OP_CHUNK_INDEX);
        ci.u64(chunkStart);
        ci.u64(chunkEnd);
        ci.u64(chunkAt);
        ci.u64(chunkRecord.length);
        ci.u32(indexOffsets.size() * 10L);
        for (Map.Entry<Integer, Long> e : indexOffsets.entrySet()) {
            ci.u16(e.getKey());
            ci.u64(e.getValue());
        }
        ci.u64(position - indexStart);
        ci.string("zstd");
        ci.u64(compressed.length);
        ci.u64(records.length);
        chunkIndexes.add(ci.bytes());
        chunks++;
        chunk.reset();
        chunkMessageIndex.clear();
        chunkStart = Long.MAX_VALUE;
        chunkEnd = Long.MIN_VALUE;
    }

    /** Finishes the file (summary, footer) and moves it into place. */
    @Override
    public void close() {
        if (closed) return;
        flushChunk();
        Rec end = new Rec(McapReader.OP_DATA_END);
        end.u32(dataCrc.getValue());
        closedData = true;  // the data section's CRC covers everything before the data-end record
        write(end.bytes());
        long summaryStart = position;
        CRC32 summaryCrc = new CRC32();
        List<long[]> groups = new ArrayList<>();
        groups.add(group(McapReader.OP_SCHEMA, schemaRecords, summaryCrc));
        groups.add(group(McapReader.OP_CHANNEL, channelRecords, summaryCrc));
        Rec st = new Rec(McapReader.OP_STATISTICS);
        st.u64(messages);
        st.u16(schemaIds.size());
        st.u32(channelIds.size());
        st.u32(0);
        st.u32(0);
        st.u32(chunks);
        st.u64(messages == 0 ? 0 : firstTime);
        st.u64(messages == 0 ? 0 : lastTime);
        st.u32(channelCounts.size() * 10L);
        for (Map.Entry<Integer, Long> e : channelCounts.entrySet()) {
            st.u16(e.getKey());
            st.u64(e.getValue());
        }
        groups.add(group(McapReader.OP_STATISTICS, List.of(st.bytes()), summaryCrc));
        groups.add(group(McapReader.OP_CHUNK_INDEX, chunkIndexes, summaryCrc));
        long offsetsStart = position;
        for (long[] g : groups) {
            if (g[2] == 0) continue;
            Rec so = new Rec(McapReader.OP_SUMMARY_OFFSET);
            so.u8((int) g[0]);
            so.u64(g[1]);
            so.u64(g[2]);
            byte[] b = so.bytes();
            summaryCrc.update(b);
            write(b);
        }
        ByteBuffer f = ByteBuffer.allocate(1 + 8 + 8 + 8).order(ByteOrder.LITTLE_ENDIAN);
        f.put((byte) McapReader.OP_FOOTER).putLong(20).putLong(summaryStart).putLong(offsetsStart);
        summaryCrc.update(f.array());
        write(f.array());
        ByteBuffer crc = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        crc.putInt((int) summaryCrc.getValue());
        write(crc.array());
        write(McapReader.MAGIC);
        closed = true;
        try {
            out.close();
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            abort();
            throw new SegsaException(target + ": cannot finish the MCAP file: " + e.getMessage(), e);
        }
    }

    /** Removes the temporary file; the target is left as it was. */
    public void abort() {
        closed = true;
        try {
            out.close();
        } catch (IOException ignored) {
            // removed below
        }
        try {
            Files.deleteIfExists(temp);
        } catch (IOException ignored) {
            // nothing more to do
        }
    }

    /** Writes a group of summary records: {opcode, start, length}. */
    private long[] group(int op, List<byte[]> records, CRC32 crc) {
        long start = position;
        for (byte[] r : records) {
            crc.update(r);
            write(r);
        }
        return new long[] {op, start, position - start};
    }

    private void write(byte[] b) {
        try {
            out.write(b);
        } catch (IOException e) {
            abort();
            throw new SegsaException(target + ": cannot write: " + e.getMessage(), e);
        }
        if (!closedData) dataCrc.update(b);
        position += b.length;
    }


    /** One record being built: opcode, then fields little-endian; {@link #bytes()} prefixes the length. */
    private static final class Rec {
        private final int op;
        private final ByteArrayOutputStream b = new ByteArrayOutputStream();

        Rec(int op) {
            this.op = op;
        }

        void u8(int v) {
            b.write(v);
        }

        void u16(int v) {
            b.write(v & 255);
            b.write((v >>> 8) & 255);
        }

        void u32(long v) {
            for (int i = 0; i < 4; i++) b.write((int) (v >>> (8 * i)) & 255);
        }

        void u64(long v) {
            for (int i = 0; i < 8; i++) b.write((int) (v >>> (8 * i)) & 255);
        }

        void string(String s) {
            byte[] d = s.getBytes(StandardCharsets.UTF_8);
            u32(d.length);
            b.writeBytes(d);
        }

        void bytes32(byte[] d) {
            u32(d.length);
            b.writeBytes(d);
        }

        void raw(byte[] d) {
            b.writeBytes(d);
        }

        byte[] bytes() {
            byte[] body = b.toByteArray();
            ByteBuffer r = ByteBuffer.allocate(9 + body.length).order(ByteOrder.LITTLE_ENDIAN);
            r.put((byte) op).putLong(body.length).put(body);
            return r.array();
        }
    }
}
