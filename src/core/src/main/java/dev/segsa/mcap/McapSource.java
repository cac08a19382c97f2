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
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * The camera frames of one topic of an MCAP log with their log times: what
 * {@code segsa score --mcap} scores. The topic is given, or the log's only image channel (found
 * in the summary section when the file has one, else the first image channel met).
 *
 * <p>Order: MCAP does not require file order to be log-time order. With chunk indexes in the
 * summary section the frames come out in log-time order ({@link McapReader#orderByLogTime});
 * without them, in file order, and no frame is dropped for being earlier than one before it
 * ({@link #outOfOrderFrames()} counts them).
 *
 * <p>The time window applies only when given: {@code fromSeconds > 0} passes over the frames
 * before {@code from} seconds of log time, a finite {@code toSeconds} those after {@code to},
 * both counted from the log's first message time (the summary's statistics or chunk indexes when
 * the file has them, else the first message read). Frames passed over are counted
 * ({@link #skippedBeforeWindow()}, {@link #skippedAfterWindow()}); chunks whose message indexes
 * show no frame in the window are counted, not read. The index of a frame is its position among
 * the topic's messages (in log-time order, or file order when the file cannot be read so),
 * counting those the window passed over, read or not: a frame has the same index with or without
 * a window.
 */
public final class McapSource implements Iterable<McapSource.Frame>, AutoCloseable {
    /**
     * One frame: its topic, index among the topic's messages, log time (ns), image and encoding, and
     * the message as it was logged (its channel, schema and bytes: what {@code --mcap-copy-input}
     * copies through).
     */
    public record Frame(String topic, long index, long logTime, BufferedImage image, String encoding, McapReader.Message message,
                        McapReader.Schema schema, String frameId) {
        public Frame(String topic, long index, long logTime, BufferedImage image, String encoding, McapReader.Message message,
                     McapReader.Schema schema) {
            this(topic, index, logTime, image, encoding, message, schema, "");
        }

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
    private final McapReader.Summary summary;
    private boolean iterated;
    private long before, after, outOfOrder;
    private String fileOrderReason;

    public McapSource(Path file, String topic, double fromSeconds, double toSeconds) {
        this(file, topic, fromSeconds, toSeconds, false);
    }

    /**
     * @param fromSeconds   frames before this many seconds of log time are passed over when it is above 0
     * @param toSeconds     frames after this many seconds are passed over when it is finite
     * @param skipBadChunks go on past chunks that cannot be read ({@link #skippedRanges()}) instead of failing
     */
    public McapSource(Path file, String topic, double fromSeconds, double toSeconds, boolean skipBadChunks) {
        this.file = file;
        this.from = fromSeconds;
        this.to = toSeconds;
        this.reader = new McapReader(file, skipBadChunks);
        this.summary = reader.summary();
        String t = topic;
        if (t == null && summary != null) {
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

    /** Frames of the topic before the window's start passed over (read or counted by the message indexes); 0 without a start. */
    public long skippedBeforeWindow() {
        return before + reader.unreadBefore();
    }

    /** Frames of the topic after the window's end passed over; 0 without an end. */
    public long skippedAfterWindow() {
        return after + reader.unreadAfter();
    }

    /** Frames given with a log time earlier than a frame given before them (possible only in file order). */
    public long outOfOrderFrames() {
        return outOfOrder;
    }

    /** Whether the frames come out in log-time order (read through the chunk indexes); else in file order. */
    public boolean inLogTimeOrder() {
        return reader.inLogTimeOrder();
    }

    /**
     * Once iterating: why the frames come in file order (no summary section, no chunk index, ...),
     * null when they come in log-time order.
     */
    public String fileOrderReason() {
        return fileOrderReason;
    }

    /** The parts of the file passed over with {@code skipBadChunks}. */
    public List<McapReader.SkippedRange> skippedRanges() {
        return reader.skippedRanges();
    }

    /** The window's bound at {@code seconds} after {@code start} (ns), saturated. */
    private static long bound(long start, double seconds) {
        double ns = seconds * 1e9;
        if (ns >= Long.MAX_VALUE) return Long.MAX_VALUE;
        if (ns <= Long.MIN_VALUE) return Long.MIN_VALUE;
        long d = (long) ns;
        long r = start + d;
        if (((start ^ r) & (d ^ r)) < 0) return d > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
        return r;
    }

    @Override
    public Iterator<Frame> iterator() {
        if (iterated) throw new IllegalStateException("an McapSource can be iterated once");
        iterated = true;
        return new Iterator<>() {
            private Frame next;
            private String chosen = topic;
            private long index;
            private boolean started, windowSet;
            private long fromNs = Long.MIN_VALUE, toNs = Long.MAX_VALUE, last = Long.MIN_VALUE;

            /** The window in log time from the log's start: only the bounds that were given. */
            private void window(long start) {
                windowSet = true;
                if (from > 0) fromNs = bound(start, from);
                if (to < Double.POSITIVE_INFINITY) toNs = bound(start, to);
            }

            @Override
            public boolean hasNext() {
                if (!started) {
                    started = true;
                    // the log starts at the summary's first message time (statistics, else chunk indexes), else at the first message read
                    long logStart = reader.logStart();
                    if (logStart != Long.MIN_VALUE) window(logStart);
                    if (summary == null) {
                        fileOrderReason = "the file has no summary section";
                    } else if (chosen == null) {
                        fileOrderReason = "the summary lists no image channel";
                    } else if (!windowSet) {
                        fileOrderReason = "the summary gives no first message time";
                    } else {
                        Set<Integer> ids = new HashSet<>();
                        for (McapReader.Channel c : summary.channels().values()) if (c.topic().equals(chosen)) ids.add(c.id());
                        if (ids.isEmpty()) fileOrderReason = "the summary does not list topic " + chosen;
                        else if (!reader.orderByLogTime(ids, fromNs, toNs)) fileOrderReason = reader.fileOrderReason();
                    }
                }
                while (next == null) {
                    McapReader.Message m = reader.next();
                    if (m == null) return false;
                    if (!windowSet) window(m.logTime());
                    McapReader.Schema s = reader.schemas().get(m.channel().schemaId());
                    if (chosen == null && McapImages.isImageChannel(m.channel(), s)) chosen = m.channel().topic();
                    if (chosen == null || !m.channel().topic().equals(chosen)) continue;
                    if (!McapImages.isImageChannel(m.channel(), s)) {
                        throw new SegsaException(file + ": topic " + chosen + " carries " + (s == null ? "no schema" : s.name()) + " in "
                                + m.channel().messageEncoding() + ", not camera images (sensor_msgs/msg/Image or CompressedImage in "
                                + "CDR, foxglove.RawImage or CompressedImage in JSON)");
                    }
                    // the topic's messages before it, the unread chunks' ones (all before the window) included: the same
                    // index with or without --from
                    long i = reader.unreadBefore() + index++;
                    if (m.logTime() < fromNs) {
                        before++;
                        continue;
                    }
                    if (m.logTime() > toNs) {
                        after++;
                        continue;
                    }
                    if (m.logTime() < last) outOfOrder++;
                    last = Math.max(last, m.logTime());
                    McapImages.Decoded d = McapImages.decode(m, s, file.toString(), i);
                    next = new Frame(chosen, i, m.logTime(), d.image(), d.encoding(), m, s, d.frameId());
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
