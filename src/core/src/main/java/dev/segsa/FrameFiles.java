package dev.segsa;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameReader;
import dev.segsa.io.DecodeAhead;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The frames of a folder (PNG, JPEG, BMP, sorted by file name), with their label masks when a
 * label folder is given, decoded ahead of use: with {@code ahead > 0} one background thread
 * decodes up to {@code ahead} frames while the caller scores the current one (a bounded queue,
 * so memory stays flat); with 0 each frame is decoded when asked for. Either way the frames, and
 * any error, come in file-name order, so results do not depend on the overlap. An error (a
 * corrupt image, a missing or malformed mask) is raised when its frame is reached. One consumer
 * thread; {@link #close()} stops the decoder.
 */
public final class FrameFiles implements Iterable<FrameFiles.Decoded>, AutoCloseable {
    /**
     * A decoded frame: its file, name, pixels, label ids at the image's size (null without labels)
     * and the time reading took; or, when iterating past errors, the error that made it unreadable
     * (then {@code image} is null).
     */
    public record Decoded(Path file, String name, BufferedImage image, Path labelFile, int[] labels, long readNanos,
                          SegsaException error) {
        public boolean failed() {
            return error != null;
        }
    }

    private final List<Path> frames;
    private final Path labelDir;
    private final int depth;
    private final boolean pastErrors;
    private DecodeAhead<Decoded> ahead;
    private boolean iterated;

    private FrameFiles(List<Path> frames, Path labelDir, int ahead, boolean pastErrors) {
        this.frames = frames;
        this.labelDir = labelDir;
        this.depth = ahead;
        this.pastErrors = pastErrors;
    }

    /**
     * @param labelDir null for frames without labels
     * @param ahead    frames decoded ahead on a background thread (0: decode on the caller's thread)
     */
    public static FrameFiles open(Path imageDir, Path labelDir, int ahead) {
        return open(imageDir, labelDir, ahead, false);
    }

    /**
     * @param pastErrors deliver a frame that cannot be read as a {@link Decoded} with its error and go
     *                   on with the next, instead of raising the error
     */
    public static FrameFiles open(Path imageDir, Path labelDir, int ahead, boolean pastErrors) {
        if (ahead < 0) throw new IllegalArgumentException("frames decoded ahead must be >= 0, got " + ahead);
        return new FrameFiles(FrameReader.listFrames(imageDir), labelDir, ahead, pastErrors);
    }

    private Decoded readOrFail(Path frame) {
        try {
            return read(frame, labelDir);
        } catch (SegsaException e) {
            if (!pastErrors) throw e;
            return new Decoded(frame, frame.getFileName().toString(), null, null, null, 0, e);
        }
    }

    public List<Path> files() {
        return frames;
    }

    public int size() {
        return frames.size();
    }

    /** Reads one frame (and its mask) on the calling thread. */
    public static Decoded read(Path frame, Path labelDir) {
        long t0 = System.nanoTime();
        Path labelFile = labelDir == null ? null : FrameReader.labelFor(frame, labelDir);
        BufferedImage image = FrameReader.readImage(frame);
        int[] labels = null;
        if (labelFile != null) {
            labels = FrameReader.readLabels(labelFile, frame, image.getWidth(), image.getHeight(), image.getWidth(), image.getHeight());
        }
        return new Decoded(frame, frame.getFileName().toString(), image, labelFile, labels, System.nanoTime() - t0, null);
    }

    @Override
    public synchronized Iterator<Decoded> iterator() {
        if (iterated) throw new IllegalStateException("FrameFiles can be iterated once");
        iterated = true;
        if (depth == 0) {
            return new Iterator<>() {
                private int next;

                @Override
                public boolean hasNext() {
                    return next < frames.size();
                }

                @Override
                public Decoded next() {
                    if (!hasNext()) throw new NoSuchElementException();
                    return readOrFail(frames.get(next++));
                }
            };
        }
        int[] next = {0};
        ahead = new DecodeAhead<>("segsa-decode", frames.isEmpty() ? "frames" : frames.get(0).getParent().toString(), depth,
                () -> next[0] < frames.size() ? readOrFail(frames.get(next[0]++)) : null);
        return ahead;
    }

    @Override
    public void close() {
        if (ahead != null) ahead.close();
    }
}
