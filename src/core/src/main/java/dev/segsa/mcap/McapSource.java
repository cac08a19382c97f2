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
 * outside [{@code from}, {@code to}] seconds of log time (from the log's first message) are
 * passed over; with a summary section, reading starts at the first chunk that can hold
 * {@code from} (its chunk indexes), else it streams from the start. The index of a frame counts
 * the topic's messages from where reading started.
 */
public final class McapSource implements Iterable<McapSource.Frame>, AutoCloseable {
    /**
     * One frame: its topic, index among the topic's messages, log time (ns), image and encoding, and
     * the message as it was logged (its channel, schema and bytes: what {@code --mcap-copy-input}
     * copies through).
     */
    public record Frame(String topic, long index, long logTime, BufferedImage image, String encoding, McapReader.Message message,
                        McapReader.Schema schema) {
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
        this.reader = new McapReader(file);
        String t = topic;
        McapReader.Summary summary = t == null ? reader.summary() : null;
        if (summary != null) {
            List<String> images = new ArrayList<>();
            for (McapReader.Channel c : summary.channels().values()) {
                if (McapImages.isImageChannel(c, summary.schemas().get(c.schemaId()))) images.add(c.topic());
            }
            if (images.size() > 1) {
                reader.close();
                throw new SegsaException(file + ": several image channels (" + String.join(", ", images) + "): choose one with --topic");
            }
            if (images.size() == 1) t = images.get(0);
        }
        this.topic = t;
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
            private boolean started;

            @Override
            public boolean hasNext() {
                if (!started) {
                    started = true;
                    // with a summary: the log starts at its statistics' first message time, and --from seeks by the chunk indexes
                    long logStart = reader.seekStart(from);
                    if (logStart != Long.MIN_VALUE) first = logStart;
                }
                while (next == null) {
                    McapReader.Message m = reader.next();
                    if (m == null) return false;
                    if (first == Long.MIN_VALUE) first = m.logTime();
                    McapReader.Schema s = reader.schemas().get(m.channel().schemaId());
                    if (chosen == null && McapImages.isImageChannel(m.channel(), s)) chosen = m.channel().topic();
                    if (chosen == null || !m.channel().topic().equals(chosen)) continue;
                    if (!McapImages.isImageChannel(m.channel(), s)) {
                        throw new SegsaException(file + ": topic " + chosen + " carries " + (s == null ? "no schema" : s.name()) + " in "
                                + m.channel().messageEncoding() + ", not camera images (sensor_msgs/msg/Image or CompressedImage in "
                                + "CDR, foxglove.RawImage or CompressedImage in JSON)");
                    }
                    double t = (m.logTime() - first) / 1e9;
                    long i = index++;
                    if (t < from || t > to) continue;
                    McapImages.Decoded d = McapImages.decode(m, s, file.toString());
                    next = new Frame(chosen, i, m.logTime(), d.image(), d.encoding(), m, s);
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
        McapReader.Summary summary = McapReader.readSummary(file);
        try (McapReader r = new McapReader(file)) {
            int imageChannels = summary == null ? -1 : (int) summary.channels().values().stream()
                    .filter(c -> McapImages.isImageChannel(c, summary.schemas().get(c.schemaId()))).count();
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
            channels.putAll(summary.channels());
            schemas.putAll(summary.schemas());
        }
        List<ChannelInfo> out = new ArrayList<>();
        for (McapReader.Channel c : channels.values()) {
            McapReader.Schema s = schemas.get(c.schemaId());
            long n = summary != null && summary.counts().containsKey(c.id()) ? summary.counts().get(c.id())
                    : counts.getOrDefault(c.id(), new long[1])[0];
            out.add(new ChannelInfo(c.id(), c.topic(), s == null ? "" : s.name(), c.messageEncoding(), n,
                    resolution.getOrDefault(c.id(), "-"), McapImages.isImageChannel(c, s)));
        }
        return out;
    }

    @Override
    public void close() {
        reader.close();
    }
}
