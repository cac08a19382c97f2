package dev.segsa.video;

import dev.segsa.error.SegsaException;
import dev.segsa.io.AtomicOutput;
import dev.segsa.io.OutputFiles;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.FrameRecorder;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes an MP4 (H.264 through FFmpeg's LGPL build, libopenh264; yuv420p, so odd sizes are
 * padded to even ones) all or nothing: into a temporary file beside the target, renamed over it
 * by {@link #close()}; {@link #abort()} (or a failure) leaves nothing. The target is checked like
 * every output ({@link OutputFiles#checkFile}). Frames are packed RGB buffers or images of the
 * size given at open; one thread.
 */
public final class VideoWriter implements AutoCloseable {
    private final Path target;
    private final Path tmp;
    private final FFmpegFrameRecorder recorder;
    private final int width;
    private final int height;
    private final Frame frame;
    private int[] row = new int[0];
    private int frames;
    private boolean finished;

    private VideoWriter(Path target, Path tmp, FFmpegFrameRecorder recorder, int width, int height) {
        this.target = target;
        this.tmp = tmp;
        this.recorder = recorder;
        this.width = width;
        this.height = height;
        this.frame = new Frame(width, height, Frame.DEPTH_UBYTE, 3);
    }

    /**
     * @param fps          frames per second of the output (e.g. the source's rate)
     * @param bitsPerSecond target bit rate (e.g. 4_000_000)
     */
    public static VideoWriter open(Path out, int width, int height, double fps, int bitsPerSecond) {
        Path abs = out.toAbsolutePath().normalize();
        OutputFiles.checkWritableFile(abs, null);
        VideoSource.quietFfmpeg();
        if (width < 2 || height < 2 || width > 8192 || height > 8192) {
            throw new SegsaException(out + ": video size " + width + "x" + height + " is outside 2..8192 per side");
        }
        if (!(fps > 0) || fps > 1000) throw new SegsaException(out + ": frame rate " + fps + " is outside (0, 1000]");
        Path tmp = abs.resolveSibling("." + abs.getFileName() + AtomicOutput.TEMP_MARK + ProcessHandle.current().pid() + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE));
        try {
            Files.createDirectories(abs.getParent());
        } catch (IOException e) {
            throw new SegsaException(out + ": cannot write: " + e.getMessage(), e);
        }
        FFmpegFrameRecorder r = new FFmpegFrameRecorder(tmp.toFile(), width + (width & 1), height + (height & 1), 0);
        r.setFormat("mp4");
        r.setVideoCodecName("libopenh264");
        r.setPixelFormat(avutil.AV_PIX_FMT_YUV420P);
        r.setFrameRate(fps);
        r.setVideoBitrate(bitsPerSecond);
        r.setGopSize((int) Math.max(1, Math.round(fps * 2)));
        try {
            r.start();
        } catch (FrameRecorder.Exception | RuntimeException e) {
            try {
                r.release();
            } catch (Exception ignored) {
                // nothing was written
            }
            deleteQuietly(tmp);
            throw new SegsaException(out + ": cannot start the H.264 encoder: " + e.getMessage(), e);
        }
        return new VideoWriter(abs, tmp, r, width, height);
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    public int frames() {
        return frames;
    }

    /** Appends an image of the writer's size. */
    public void write(BufferedImage img) {
        if (img.getWidth() != width || img.getHeight() != height) {
            throw new IllegalArgumentException("frame is " + img.getWidth() + "x" + img.getHeight() + ", the video is " + width + "x" + height);
        }
        ByteBuffer b = (ByteBuffer) frame.image[0];
        if (row.length < width) row = new int[width];
        for (int y = 0; y < height; y++) {
            img.getRGB(0, y, width, 1, row, 0, width);
            int o = y * frame.imageStride;
            for (int x = 0; x < width; x++) {
                int p = row[x];
                b.put(o + 3 * x, (byte) (p >> 16));
                b.put(o + 3 * x + 1, (byte) (p >> 8));
                b.put(o + 3 * x + 2, (byte) p);
            }
        }
        record();
    }

    /** Appends packed RGB pixels of the writer's size, rows {@code stride} bytes apart. */
    public void write(ByteBuffer rgb, int stride) {
        ByteBuffer b = (ByteBuffer) frame.image[0];
        for (int y = 0; y < height; y++) b.put(y * frame.imageStride, rgb, y * stride, 3 * width);
        record();
    }

    /** javacv's "...() error -N" with FFmpeg's own words for the code added (av_strerror). */
    static String ffmpegMessage(String message) {
        if (message == null) return "(no message)";
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("error (-?\\d+)").matcher(message);
        if (!m.find()) return message;
        try (org.bytedeco.javacpp.BytePointer buf = new org.bytedeco.javacpp.BytePointer(256)) {
            int code = Integer.parseInt(m.group(1));
            buf.fill(0);
            if (avutil.av_strerror(code, buf, 256) == 0) {
                String words = buf.getString();
                int nul = words.indexOf('\0');
                return "FFmpeg: " + (nul >= 0 ? words.substring(0, nul) : words).trim() + " (" + message.trim() + ")";
            }
        } catch (RuntimeException ignored) {
            // the plain message below
        }
        return message;
    }

    private void record() {
        dev.segsa.io.StopRequest.check();
        try {
            recorder.record(frame, avutil.AV_PIX_FMT_RGB24);
            frames++;
        } catch (FrameRecorder.Exception | RuntimeException e) {
            abort();
            throw new SegsaException(target + ": encoding frame " + frames + " (" + recorder.getImageWidth() + "x"
                    + recorder.getImageHeight() + ", " + recorder.getVideoBitrate() + " bit/s) failed: " + ffmpegMessage(e.getMessage())
                    + "; the H.264 encoder refuses some very small or very noisy frames: try a larger frame or a higher --bitrate", e);
        }
    }

    /** Stops without an output: the temporary file is removed. */
    public void abort() {
        if (finished) return;
        finished = true;
        try {
            recorder.release();
        } catch (Exception ignored) {
            // the file is discarded anyway
        }
        deleteQuietly(tmp);
    }

    /** Finishes the file and renames it over the target. */
    @Override
    public void close() {
        if (finished) return;
        finished = true;
        try {
            recorder.stop();
            recorder.release();
            verifyComplete();
            OutputFiles.checkFile(target, null);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmp);
            if (e instanceof SegsaException s) throw s;
            throw new SegsaException(target + ": cannot finish the video: " + e.getMessage(), e);
        }
    }

    /**
     * FFmpeg writes the MP4 index (moov) at the end and does not always report a failed write of it
     * (a full disk, a file size limit): the finished temporary is opened again and must hold every
     * frame written, or the video is not put in place.
     */
    private void verifyComplete() {
        int found;
        try (org.bytedeco.javacv.FFmpegFrameGrabber g = new org.bytedeco.javacv.FFmpegFrameGrabber(tmp.toFile())) {
            g.start();
            found = g.getLengthInFrames();
            g.stop();
        } catch (Exception e) {
            String why = String.valueOf(ffmpegMessage(e.getMessage()));
            int cut = why.indexOf(" (avformat_open_input");
            throw new SegsaException(target + ": cannot finish the video: the file written does not read back ("
                    + (cut > 0 ? why.substring(0, cut) : why) + "): its end is missing; is the disk full? The earlier file, if any, "
                    + "is left as it was", e);
        }
        if (found < frames) {
            throw new SegsaException(target + ": cannot finish the video: " + frames + " frames were encoded but the written file holds "
                    + found + "; is the disk full? The earlier file, if any, is left as it was");
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // the next write of the output removes it
        }
    }
}
