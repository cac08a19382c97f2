package dev.segsa.cli;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameReader;
import dev.segsa.mcap.McapSource;
import dev.segsa.video.VideoSource;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One camera of a {@code segsa watch}: where its frames come from (a video file or stream, an MCAP
 * topic, a folder being filled), the thread that reads them into its own queue, its time base and
 * its counts. A live source (a stream, a folder, or any source with --realtime) never waits for the
 * scorer: a full queue loses its oldest frame (counted, and logged as skipped). A stream that fails
 * (no data within the read timeout, a dropped connection) is opened again after a backoff of 1, 2,
 * 4 ... 30 s, up to {@code reconnects} times in a row (counted); a frame read resets the count.
 */
final class WatchSource {
    enum Kind { VIDEO, MCAP, FOLDER }

    /** A frame from a source: its image, name, index in the source, log time (ns), stream time (s), size and arrival. */
    record Frame(WatchSource source, BufferedImage image, String name, long index, long timeNs, double seconds, long bytes,
                 long arrivedNanos, int segment) {
        Frame(WatchSource source, BufferedImage image, String name, long index, long timeNs, double seconds, long bytes, long arrivedNanos) {
            this(source, image, name, index, timeNs, seconds, bytes, arrivedNanos, 0);
        }
    }

    /** How a source reads: the options of the watch that apply to every source. */
    record Settings(boolean realtime, boolean scoreAll, Double fps, Double idleSeconds, int pollMs, int settleMs, int queueFrames,
                    double openTimeoutSeconds, double readTimeoutSeconds, int reconnects, long startedNanos) {}

    static final Frame END = new Frame(null, null, "end", -1, 0, 0, 0, 0);

    final int id;
    final String name;
    final Kind kind;
    /** The video source (file path, URL, camera, -), the MCAP file or the folder. */
    final String location;
    final String topic;
    private final Settings settings;
    private final AtomicBoolean stop;
    private final Semaphore arrivals;
    final LinkedBlockingDeque<Frame> queue;
    final AtomicLong dropped = new AtomicLong(), badFrames = new AtomicLong(), reconnectCount = new AtomicLong(),
            framesRead = new AtomicLong();
    /** Frames a full queue lost, waiting to be logged by the scorer's thread. */
    final LinkedBlockingDeque<Frame> lost = new LinkedBlockingDeque<>();
    volatile String state = "starting";
    volatile String lastError;
    volatile Throwable failure;
    volatile String note;
    private Thread thread;

    WatchSource(int id, String name, Kind kind, String location, String topic, Settings settings, AtomicBoolean stop, Semaphore arrivals) {
        this.id = id;
        this.name = name;
        this.kind = kind;
        this.location = location;
        this.topic = topic;
        this.settings = settings;
        this.stop = stop;
        this.arrivals = arrivals;
        this.queue = new LinkedBlockingDeque<>(settings.queueFrames() + 1);
    }

    /**
     * Parses {@code NAME=KIND:LOCATION}: {@code video:FILE|URL|/dev/videoN|-}, {@code mcap:FILE} or
     * {@code mcap:FILE#TOPIC}, {@code folder:DIR}.
     */
    static String[] parse(String spec) {
        int eq = spec.indexOf('=');
        int colon = eq < 0 ? -1 : spec.indexOf(':', eq);
        if (eq <= 0 || colon < 0) {
            throw new IllegalArgumentException("--source must be NAME=video:SOURCE, NAME=mcap:FILE[#TOPIC] or NAME=folder:DIR, got " + spec);
        }
        String name = spec.substring(0, eq), kind = spec.substring(eq + 1, colon), where = spec.substring(colon + 1);
        if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("--source " + spec + ": the name must be 1-64 of A-Z a-z 0-9 . _ -");
        }
        if (where.isEmpty()) throw new IllegalArgumentException("--source " + spec + ": nothing after " + kind + ":");
        String topic = null;
        if (kind.equals("mcap") && where.contains("#")) {
            topic = where.substring(where.indexOf('#') + 1);
            where = where.substring(0, where.indexOf('#'));
        }
        if (!kind.equals("video") && !kind.equals("mcap") && !kind.equals("folder")) {
            throw new IllegalArgumentException("--source " + spec + ": the kind must be video, mcap or folder, got " + kind);
        }
        return new String[] {name, kind, where, topic};
    }

    /** Whether a video location is a stream (URL, camera, standard input) rather than a file. */
    static boolean isStream(String location) {
        return location.equals("-") || location.equals("/dev/stdin") || location.contains("://") || location.startsWith("/dev/video");
    }

    boolean stream() {
        return kind == Kind.VIDEO && isStream(location);
    }

    /** Live sources never wait for the scorer. */
    boolean live() {
        return ((kind == Kind.FOLDER || stream()) && !settings.scoreAll()) || settings.realtime();
    }

    /** What this source is, for messages. */
    String describe() {
        String what = kind == Kind.MCAP && topic != null ? location + "#" + topic : location.equals("-") ? "standard input" : location;
        return name + " (" + what + ")";
    }

    void start() {
        thread = Thread.ofPlatform().name("segsa-watch-" + name).daemon().start(this::run);
    }

    void interrupt() {
        if (thread != null) thread.interrupt();
    }

    void join(long millis) throws InterruptedException {
        if (thread != null) thread.join(millis);
    }

    private void run() {
        try {
            state = "running";
            switch (kind) {
                case VIDEO -> {
                    if (stream()) readStream();
                    else readVideoFile();
                }
                case MCAP -> readMcap();
                case FOLDER -> readFolder();
            }
            if (!"failed".equals(state)) state = stop.get() ? "stopped" : "ended";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            state = "stopped";
        } catch (Throwable t) {
            failure = t;
            lastError = String.valueOf(t.getMessage());
            state = "failed";
        } finally {
            try {
                while (!queue.offerLast(END, 100, TimeUnit.MILLISECONDS)) {
                    if (stop.get()) {
                        queue.pollFirst();
                    }
                }
            } catch (InterruptedException ignored) {
                queue.pollFirst();
                queue.offerLast(END);
            }
            arrivals.release();
        }
    }

    /** Frames read and still in the queue: after a stop, the frames that were read and never scored. */
    long waiting() {
        return queue.stream().filter(f -> f != END).count();
    }

    private void deliver(Frame f) throws InterruptedException {
        framesRead.incrementAndGet();
        if (!live()) {
            while (!queue.offerLast(f, 100, TimeUnit.MILLISECONDS)) if (stop.get()) return;
            arrivals.release();
            return;
        }
        while (!queue.offerLast(f)) {
            Frame old = queue.pollFirst();
            if (old != null && old != END) {
                dropped.incrementAndGet();
                lost.addLast(new Frame(this, null, old.name(), old.index(), old.timeNs(), old.seconds(), old.bytes(), old.arrivedNanos(),
                        old.segment()));
            }
        }
        arrivals.release();
    }

    private long index;

    /** This source's clock as the selector sees it. */
    final TimeBase timeBase = new TimeBase();

    /**
     * One monotonic time base per source: a frame's time in seconds since the source's first frame;
     * a time that goes back (a recorder restarted, a log of several sessions) starts a new segment
     * that continues from the last time plus the last step between frames, counted, so the stream
     * time never goes back and the frame's own time is kept beside it.
     */
    static final class TimeBase {
        private long first = Long.MIN_VALUE, last, offset, step = 1_000_000;
        private volatile int segments;

        double seconds(long timeNs) {
            if (first == Long.MIN_VALUE) {
                first = timeNs;
                last = timeNs;
            } else if (timeNs < last) {
                offset += last - timeNs + step;
                segments++;
            } else if (timeNs > last) {
                step = timeNs - last;
            }
            last = timeNs;
            return (timeNs - first + offset) / 1e9;
        }

        /** Backward jumps so far (0: one segment). */
        int segment() {
            return segments;
        }
    }

    private void readVideoFile() throws InterruptedException {
        try (VideoSource src = VideoSource.openSource(location, VideoSource.Options.ALL)) {
            long t0 = System.nanoTime();
            for (VideoSource.VideoFrame v : src) {
                if (stop.get()) return;
                double t = timeBase.seconds(v.ptsMicros() * 1000);
                if (settings.realtime()) {
                    long wait = t0 + (long) (t * 1e9) - System.nanoTime();
                    if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
                }
                deliver(new Frame(this, toImage(v), v.name(), index++, v.ptsMicros() * 1000, t, 3L * v.width() * v.height(), System.nanoTime(),
                        timeBase.segment()));
            }
        }
    }

    /** A network stream or camera: read until stopped, reopened after failures with backoff. */
    private void readStream() throws InterruptedException {
        int failures = 0;
        boolean stdin = location.equals("-") || location.equals("/dev/stdin");
        while (!stop.get()) {
            long before = framesRead.get();
            try (VideoSource src = VideoSource.openSource(location, VideoSource.Options.ALL,
                    new VideoSource.NetworkOptions(settings.openTimeoutSeconds(), settings.readTimeoutSeconds(), stop::get))) {
                state = "running";
                for (VideoSource.VideoFrame v : src) {
                    if (stop.get()) return;
                    long now = System.nanoTime();
                    Instant wall = Instant.now();
                    deliver(new Frame(this, toImage(v), v.video().getFileName() + "#" + index, index++, wall.getEpochSecond() * 1_000_000_000L + wall.getNano(),
                            (now - settings.startedNanos()) / 1e9, 3L * v.width() * v.height(), now));
                    failures = 0;
                }
                if (stdin || stop.get()) return;
                lastError = "the stream ended";
            } catch (SegsaException e) {
                if (stop.get()) return;
                if (stdin) throw e;
                lastError = e.getMessage();
                if (framesRead.get() > before) failures = 0;
            }
            if (++failures > settings.reconnects()) {
                throw new SegsaException(describe() + ": gave up after " + settings.reconnects() + " reconnects: " + lastError);
            }
            reconnectCount.incrementAndGet();
            state = "reconnecting";
            long backoffMs = Math.min(30_000, 1000L << Math.min(5, failures - 1));
            long until = System.nanoTime() + backoffMs * 1_000_000;
            while (!stop.get() && System.nanoTime() < until) TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    private void readMcap() throws InterruptedException {
        try (McapSource src = new McapSource(Path.of(location), topic, 0, Double.POSITIVE_INFINITY)) {
            long t0 = System.nanoTime();
            for (McapSource.Frame f : src) {
                if (stop.get()) return;
                double t = timeBase.seconds(f.logTime());
                if (settings.realtime()) {
                    long wait = t0 + (long) (t * 1e9) - System.nanoTime();
                    if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
                }
                deliver(new Frame(this, f.image(), f.topic() + "#" + f.index(), index++, f.logTime(), t, f.message().data().length,
                        System.nanoTime(), timeBase.segment()));
            }
            if (src.reader().truncatedAt() >= 0) {
                note = location + " ends inside the record at offset " + src.reader().truncatedAt()
                        + " (a recorder stopped mid-write?): watched the frames before it";  // in status.json and the summary
            }
        }
    }

    /** A pending file unchanged this long that does not decode (or stays empty) is skipped with a warning. */
    static final long GIVE_UP_MS = 10_000;

    /** A file seen in the folder and not taken yet: its size and time, and since when they have not changed. */
    private record Pending(long size, long mtime, long since) {}

    private void readFolder() throws InterruptedException, IOException {
        Path folder = Path.of(location);
        Map<Path, Pending> pending = new HashMap<>();
        Set<Path> taken = new HashSet<>();
        long lastNew = System.nanoTime();
        while (!stop.get()) {
            boolean any = false;
            long now = System.nanoTime();
            if (!Files.isDirectory(folder)) throw new SegsaException(folder + ": the folder is gone");
            List<Path> listed = FrameReader.listFrames(folder);
            // a pending file that left the listing is forgotten
            pending.keySet().retainAll(new HashSet<>(listed));
            for (Path p : listed) {
                if (taken.contains(p)) continue;
                long size, mtime;
                try {
                    size = Files.size(p);
                    mtime = Files.getLastModifiedTime(p).toMillis();
                } catch (IOException e) {
                    pending.remove(p);  // gone or not readable: looked at afresh if it comes back
                    continue;
                }
                Pending seen = pending.get(p);
                if (seen == null || seen.size() != size || seen.mtime() != mtime) {
                    pending.put(p, new Pending(size, mtime, now));  // new or still growing
                    continue;
                }
                double unchanged = (now - seen.since()) / 1e6;
                if (size == 0) {
                    // an empty file that stays empty past the give-up time is skipped, not waited for forever
                    if (unchanged >= GIVE_UP_MS) {
                        System.err.println("segsa watch: warning: skipped " + p + ": empty for " + GIVE_UP_MS / 1000 + " s");
                        pending.remove(p);
                        taken.add(p);
                        badFrames.incrementAndGet();
                    }
                    continue;
                }
                if (unchanged < settings.settleMs()) continue;
                BufferedImage img;
                try {
                    img = FrameReader.readImage(p);
                } catch (SegsaException e) {
                    if (unchanged < GIVE_UP_MS) continue;  // maybe still being written in pauses: tried again
                    System.err.println("segsa watch: warning: skipped " + e.getMessage().lines().findFirst().orElse(p.toString()));
                    pending.remove(p);
                    taken.add(p);
                    badFrames.incrementAndGet();
                    continue;
                }
                pending.remove(p);
                taken.add(p);
                any = true;
                Instant wall = Instant.now();
                long picked = System.nanoTime();
                long timeNs = settings.fps() != null ? Math.round(index / settings.fps() * 1e9) : wall.getEpochSecond() * 1_000_000_000L + wall.getNano();
                double t = settings.fps() != null ? index / settings.fps() : (picked - settings.startedNanos()) / 1e9;
                deliver(new Frame(this, img, p.getFileName().toString(), index++, timeNs, t, size, picked));
            }
            if (any) lastNew = System.nanoTime();  // idleness counts frames taken, not files seen
            if (settings.idleSeconds() != null && (System.nanoTime() - lastNew) / 1e9 >= settings.idleSeconds()) return;
            TimeUnit.MILLISECONDS.sleep(settings.pollMs());
        }
    }

    /** A decoded RGB24 video frame as a BufferedImage of its own (the decoder reuses its buffer). */
    static BufferedImage toImage(VideoSource.VideoFrame v) {
        BufferedImage img = new BufferedImage(v.width(), v.height(), BufferedImage.TYPE_INT_RGB);
        int[] row = new int[v.width()];
        ByteBuffer px = v.pixels();
        for (int y = 0; y < v.height(); y++) {
            int at = y * v.stride();
            for (int x = 0; x < v.width(); x++, at += 3) {
                row[x] = ((px.get(at) & 255) << 16) | ((px.get(at + 1) & 255) << 8) | (px.get(at + 2) & 255);
            }
            img.setRGB(0, y, v.width(), 1, row, 0, v.width());
        }
        return img;
    }
}
