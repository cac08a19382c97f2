package dev.segsa.mcap;

import dev.segsa.error.SegsaException;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The camera frames of one topic of an MCAP log, in file order, with their log times: what
 * {@code segsa score --mcap} scores. The topic is given, or the log's only image channel (found
 * in the summary section when the file has one, else the first image channel met). Frames
 * outside [{@code from}, {@code to}] seconds of log time (from the first message of the topic)
 * are passed over while streaming.
 */
public final class McapSource implements Iterable<McapSource.Frame>, AutoCloseable {
    /** One frame: its topic, index among the topic's messages, log time (ns), image and encoding. */
    public record Frame(String topic, long index, long logTime, BufferedImage image, String encoding) {
        public double seconds() {
            return logTime / 1e9;
        }
    }

    /** A channel as {@code --list} shows it. */
    public record ChannelInfo(int id, String topic, String schema, String messageEncoding, long messages, String resolution,
                              boolean image) {}

    private final Path file;
    private final McapReader reader;
    private final String topic;
    private final double from, to;
    private boolean iterated;

    public McapSource(Path file, String topic, double fromSeconds, double toSeconds) {
        this.file = file;
        this.from = fromSeconds;
        this.to = toSeconds;
        String t = topic;
        if (t == null) {
            List<ChannelInfo> images = new ArrayList<>();
            for (ChannelInfo c : summaryChannels(file)) if (c.image()) images.add(c);
            if (images.size() > 1) {
                StringBuilder b = new StringBuilder();
                for (ChannelInfo c : images) b.append(b.isEmpty() ? "" : ", ").append(c.topic());
                throw new SegsaException(file + ": several image channels (" + b + "): choose one with --topic");
            }
            if (images.size() == 1) t = images.get(0).topic();
        }
        this.topic = t;
        this.reader = new McapReader(file);
    }

    /** The topic read (null until the first image channel is met when the file had no summary). */
    public String topic() {
        return topic;
    }

    public McapReader reader() {
        return reader;
    }

    @Override
    public Iterator<Frame> iterator() {
        if (iterated) throw new IllegalStateException("an McapSource can be iterated once");
        iterated = true;
        return new Iterator<>() {
            private Frame next;
            private String chosen = topic;
            private long index;
            private long first = Long.MIN_VALUE;

            @Override
            public boolean hasNext() {
                while (next == null) {
                    McapReader.Message m = reader.next();
                    if (m == null) return false;
                    McapReader.Schema s = reader.schemas().get(m.channel().schemaId());
                    if (chosen == null && McapImages.isImageChannel(m.channel(), s)) chosen = m.channel().topic();
                    if (chosen == null || !m.channel().topic().equals(chosen)) continue;
                    if (!McapImages.isImageChannel(m.channel(), s)) {
                        throw new SegsaException(file + ": topic " + chosen + " carries " + (s == null ? "no schema" : s.name()) + " in "
                                + m.channel().messageEncoding() + ", not camera images (sensor_msgs/msg/Image or CompressedImage in "
                                + "CDR, foxglove.RawImage or CompressedImage in JSON)");
                    }
                    if (first == Long.MIN_VALUE) first = m.logTime();
                    double t = (m.logTime() - first) / 1e9;
                    long i = index++;
                    if (t < from || t > to) continue;
                    McapImages.Decoded d = McapImages.decode(m, s, file.toString());
                    next = new Frame(chosen, i, m.logTime(), d.image(), d.encoding());
                }
                return true;
            }

            @Override
            public Frame next() {
                if (!hasNext()) throw new NoSuchElementException();
                Frame f = next;
                next = null;
                return f;
            }
        };
    }

    /**
     * Every channel with its schema, encoding and message count, and for image channels the
     * resolution of their first message. Reads the summary section when the file has one (and
     * then only as many messages as the resolutions need); else reads the whole file.
     */
    public static List<ChannelInfo> list(Path file) {
        Map<Integer, long[]> counts = new LinkedHashMap<>();
        Map<Integer, String> resolution = new LinkedHashMap<>();
        Map<Integer, McapReader.Channel> channels = new LinkedHashMap<>();
        Map<Integer, McapReader.Schema> schemas = new LinkedHashMap<>();
        Summary summary = readSummary(file);
        try (McapReader r = new McapReader(file)) {
            int imageChannels = summary == null ? -1 : (int) summary.channels.values().stream()
                    .filter(c -> McapImages.isImageChannel(c, summary.schemas.get(c.schemaId()))).count();
            for (McapReader.Message m; (m = r.next()) != null; ) {
                int id = m.channel().id();
                counts.computeIfAbsent(id, k -> new long[1])[0]++;
                McapReader.Schema s = r.schemas().get(m.channel().schemaId());
                if (!resolution.containsKey(id) && McapImages.isImageChannel(m.channel(), s)) {
                    BufferedImage img = McapImages.decode(m, s, file.toString()).image();
                    resolution.put(id, img.getWidth() + "x" + img.getHeight());
                    if (summary != null && resolution.size() == imageChannels) break;
                }
            }
            channels.putAll(r.channels());
            schemas.putAll(r.schemas());
        }
        if (summary != null) {
            channels.putAll(summary.channels);
            schemas.putAll(summary.schemas);
        }
        List<ChannelInfo> out = new ArrayList<>();
        for (McapReader.Channel c : channels.values()) {
            McapReader.Schema s = schemas.get(c.schemaId());
            long n = summary != null && summary.counts.containsKey(c.id()) ? summary.counts.get(c.id())
                    : counts.getOrDefault(c.id(), new long[1])[0];
            out.add(new ChannelInfo(c.id(), c.topic(), s == null ? "" : s.name(), c.messageEncoding(), n,
                    resolution.getOrDefault(c.id(), "-"), McapImages.isImageChannel(c, s)));
        }
        return out;
    }

    /** The channels of the summary section (empty when the file has none). */
    static List<ChannelInfo> summaryChannels(Path file) {
        Summary s = readSummary(file);
        List<ChannelInfo> out = new ArrayList<>();
        if (s == null) return out;
        for (McapReader.Channel c : s.channels.values()) {
            McapReader.Schema sc = s.schemas.get(c.schemaId());
            out.add(new ChannelInfo(c.id(), c.topic(), sc == null ? "" : sc.name(), c.messageEncoding(),
                    s.counts.getOrDefault(c.id(), 0L), "-", McapImages.isImageChannel(c, sc)));
        }
        return out;
    }

    private record Summary(Map<Integer, McapReader.Schema> schemas, Map<Integer, McapReader.Channel> channels, Map<Integer, Long> counts) {}

    /** Schemas, channels and per-channel message counts of the summary section; null when there is none or it cannot be read. */
    private static Summary readSummary(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            long footerAt = size - 8 - 29;
            if (footerAt < 8) return null;
            ByteBuffer f = ByteBuffer.allocate(29 + 8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(f, footerAt);
            if ((f.get(0) & 0xff) != McapReader.OP_FOOTER || f.getLong(1) != 20) return null;
            for (int i = 0; i < 8; i++) if (f.get(29 + i) != McapReader.MAGIC[i]) return null;
            long summaryStart = f.getLong(9);
            if (summaryStart <= 8 || summaryStart >= footerAt || footerAt - summaryStart > McapReader.MAX_CHUNK_BYTES) return null;
            ByteBuffer b = ByteBuffer.allocate((int) (footerAt - summaryStart)).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(b, summaryStart);
            b.flip();
            Map<Integer, McapReader.Schema> schemas = new LinkedHashMap<>();
            Map<Integer, McapReader.Channel> channels = new LinkedHashMap<>();
            Map<Integer, Long> counts = new LinkedHashMap<>();
            while (b.remaining() >= 9) {
                int op = b.get() & 0xff;
                long len = b.getLong();
                if (len < 0 || len > b.remaining()) return null;
                ByteBuffer r = b.slice(b.position(), (int) len).order(ByteOrder.LITTLE_ENDIAN);
                b.position(b.position() + (int) len);
                if (op == McapReader.OP_SCHEMA) {
                    int id = r.getShort() & 0xffff;
                    String name = str(r), enc = str(r);
                    byte[] data = new byte[r.getInt()];
                    r.get(data);
                    schemas.put(id, new McapReader.Schema(id, name, enc, data));
                } else if (op == McapReader.OP_CHANNEL) {
                    int id = r.getShort() & 0xffff, schemaId = r.getShort() & 0xffff;
                    String topic = str(r), enc = str(r);
                    channels.put(id, new McapReader.Channel(id, schemaId, topic, enc, Map.of()));
                } else if (op == McapReader.OP_STATISTICS) {
                    r.getLong();
                    r.getShort();
                    r.getInt();
                    r.getInt();
                    r.getInt();
                    r.getInt();
                    r.getLong();
                    r.getLong();
                    int mapLen = r.getInt();
                    int end = r.position() + mapLen;
                    while (r.position() < end) counts.put(r.getShort() & 0xffff, r.getLong());
                }
            }
            return channels.isEmpty() ? null : new Summary(schemas, channels, counts);
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

    @Override
    public void close() {
        reader.close();
    }
}
