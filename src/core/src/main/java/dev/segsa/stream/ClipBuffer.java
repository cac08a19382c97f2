package dev.segsa.stream;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Clips around kept frames: every frame of the stream passes through {@link #push} (scored or
 * not); a kept frame opens the window [t - pre, t + post] ({@link #keep}); frames in an open
 * window come out of {@link #push}/{@link #keep} once each, in stream order, however many windows
 * overlap them (overlapping windows merge). Frames before a keep wait in a ring buffer bounded by
 * {@code maxFrames} and {@code maxBytes} (the oldest are dropped first, so a pre-roll may be cut
 * short: {@link #cutShort()} counts those frames). Not thread-safe.
 *
 * @param <T> the frame (e.g. an image and its name)
 */
public final class ClipBuffer<T> {
    /** A frame waiting in the ring, or coming out. */
    public record Timed<T>(T frame, long index, double seconds, long bytes) {}

    private final double pre, post;
    private final int maxFrames;
    private final long maxBytes;
    private final ArrayDeque<Timed<T>> ring = new ArrayDeque<>();
    private long ringBytes;
    private double openUntil = Double.NEGATIVE_INFINITY;
    private long lastEmitted = -1;
    private long cutShort;
    /** Times of frames evicted unwritten within the last {@code pre} seconds (to count a cut-short pre-roll). */
    private final ArrayDeque<Double> evicted = new ArrayDeque<>();
    private long windows;

    public ClipBuffer(double preSeconds, double postSeconds, int maxFrames, long maxBytes) {
        if (!(preSeconds >= 0) || !(postSeconds >= 0)) throw new IllegalArgumentException("pre and post must be >= 0");
        if (maxFrames < 1 || maxBytes < 1) throw new IllegalArgumentException("the ring needs room for at least one frame");
        this.pre = preSeconds;
        this.post = postSeconds;
        this.maxFrames = maxFrames;
        this.maxBytes = maxBytes;
    }

    /** The next frame of the stream; returns the frames to write now (in an open post-roll: this one). */
    public List<Timed<T>> push(T frame, long index, double seconds, long bytes) {
        Timed<T> f = new Timed<>(frame, index, seconds, bytes);
        if (seconds <= openUntil && index > lastEmitted) {
            lastEmitted = index;
            return List.of(f);
        }
        ring.addLast(f);
        ringBytes += bytes;
        while (ring.size() > maxFrames || (ringBytes > maxBytes && ring.size() > 1)) {
            Timed<T> old = ring.removeFirst();
            ringBytes -= old.bytes();
            if (old.index() > lastEmitted) evicted.addLast(old.seconds());
        }
        while (!evicted.isEmpty() && evicted.peekFirst() < seconds - pre) evicted.removeFirst();
        return List.of();
    }

    /**
     * Frame {@code index} at {@code seconds} (already pushed) is kept: opens [seconds - pre,
     * seconds + post] and returns the ring's frames in it not yet written, in order (frames pushed
     * after it, when the decision came later, included).
     */
    public List<Timed<T>> keep(long index, double seconds) {
        windows++;
        for (double t : evicted) if (t >= seconds - pre) cutShort++;
        evicted.clear();
        openUntil = Math.max(openUntil, seconds + post);
        List<Timed<T>> out = new ArrayList<>();
        while (!ring.isEmpty()) {
            Timed<T> f = ring.peekFirst();
            if (f.index() > index) break;
            ring.removeFirst();
            ringBytes -= f.bytes();
            if (f.seconds() >= seconds - pre && f.index() > lastEmitted) {
                out.add(f);
                lastEmitted = f.index();
            }
        }
        // a decision that came after later frames were pushed: those in the post-roll come out too
        while (!ring.isEmpty() && ring.peekFirst().seconds() <= openUntil) {
            Timed<T> f = ring.removeFirst();
            ringBytes -= f.bytes();
            if (f.index() > lastEmitted) {
                out.add(f);
                lastEmitted = f.index();
            }
        }
        return out;
    }

    /** Whether a post-roll is still open at {@code seconds}. */
    public boolean open(double seconds) {
        return seconds <= openUntil;
    }

    /** The end of the open post-roll (-inf when none was opened). */
    public double openUntil() {
        return openUntil;
    }

    /** Frames a pre-roll wanted that the ring's bounds had dropped. */
    public long cutShort() {
        return cutShort;
    }

    public long windows() {
        return windows;
    }

    /** Frames waiting in the ring and their bytes. */
    public int size() {
        return ring.size();
    }

    public long bytes() {
        return ringBytes;
    }
}
