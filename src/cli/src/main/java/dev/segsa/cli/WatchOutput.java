package dev.segsa.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.segsa.io.AtomicOutput;
import dev.segsa.report.HeatmapImage;
import dev.segsa.video.VideoWriter;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What a {@code segsa watch} writes into its folder: the decisions log (JSON Lines, one line per
 * frame seen, appended and flushed line by line so the log is whole up to its last line at every
 * instant), the kept frames and their clips (PNG files, or one H.264 MP4 per clip), heatmaps, and
 * {@code status.json} (replaced atomically; on a full disk rewritten in place). A decision is
 * logged before its frame's file is renamed into place.
 */
final class WatchOutput implements AutoCloseable {
    /** Version of the decisions lines' and status.json's fields. */
    static final int SCHEMA_VERSION = 2;

    static final ObjectMapper JSON = new ObjectMapper().configure(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN, true);

    enum ClipFormat { PNG, MP4 }

    private final Path out;
    private final OutputStream log;
    private final boolean logAll;
    private final ClipFormat clipFormat;
    private final Set<String> written = new HashSet<>();
    /** The MP4 clip being written per source, and the index of its last frame. */
    private final Map<Integer, VideoWriter> clips = new HashMap<>();
    private final Map<Integer, Long> clipLast = new HashMap<>();
    private final Map<Integer, String> clipNames = new HashMap<>();
    private final double clipFps;
    long framesWritten, clipsWritten;

    /** @param out the folder (null: a dry run, nothing written) */
    WatchOutput(Path out, boolean logAll, ClipFormat clipFormat, double clipFps) throws IOException {
        this.out = out;
        this.logAll = logAll;
        this.clipFormat = clipFormat;
        this.clipFps = clipFps;
        this.log = out == null ? null : Files.newOutputStream(out.resolve("decisions.jsonl"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE);
    }

    /** A time in seconds as a plain decimal (never E-notation), to the microsecond. */
    static BigDecimal plainSeconds(double seconds) {
        return BigDecimal.valueOf(seconds).setScale(6, RoundingMode.HALF_EVEN);
    }

    static BigDecimal plainSeconds(long nanos) {
        return BigDecimal.valueOf(nanos, 9).setScale(6, RoundingMode.HALF_EVEN);
    }

    static void putNumber(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) o.put(key, v);
        else o.putNull(key);
    }

    /** One frame's line: decided (kept or dropped) or skipped unscored ({@code skipped} true). Kept lines always; others with --log all. */
    void logDecision(ObjectNode line, boolean keep) throws IOException {
        if (log == null || (!keep && !logAll)) return;
        ObjectNode o = JSON.createObjectNode();
        o.put("schemaVersion", SCHEMA_VERSION);
        o.setAll(line);
        byte[] json = JSON.writeValueAsBytes(o);
        byte[] withNewline = java.util.Arrays.copyOf(json, json.length + 1);
        withNewline[json.length] = '\n';
        log.write(withNewline);  // one write: a kill between two writes cannot leave half a line
        log.flush();
    }

    /** Writes a frame of a clip (or the kept frame) once; the name carries the source and the index. */
    void writeFrame(int source, String sourceName, long index, String frameName, BufferedImage image) throws IOException {
        if (out == null || image == null) return;
        String key = source + "/" + index;
        if (!written.add(key)) return;
        if (clipFormat == ClipFormat.PNG) {
            AtomicOutput.write(out.resolve(baseName(sourceName, index, frameName) + ".png"), png(image));
            framesWritten++;
            return;
        }
        Long last = clipLast.get(source);
        VideoWriter w = clips.get(source);
        if (w != null && (last == null || index != last + 1 || w.width() != image.getWidth() || w.height() != image.getHeight())) {
            finishClip(source);
            w = null;
        }
        if (w == null) {
            String name = baseName(sourceName, index, frameName) + "-clip.mp4";
            w = VideoWriter.open(out.resolve(name), image.getWidth(), image.getHeight(), clipFps, 4_000_000);
            clips.put(source, w);
            clipNames.put(source, name);
        }
        w.write(image);
        clipLast.put(source, index);
        framesWritten++;
    }

    /** The kept frame itself as a PNG (beside an MP4 clip), and its heatmap. */
    void writeKept(int source, String sourceName, long index, String frameName, BufferedImage image, float[] map, int mapWidth,
                   int mapHeight, double imageMdsa) throws IOException {
        if (out == null) return;
        String base = baseName(sourceName, index, frameName);
        if (clipFormat == ClipFormat.MP4 && image != null && written.add("kept/" + source + "/" + index)) {
            AtomicOutput.write(out.resolve(base + ".png"), png(image));
        } else {
            writeFrame(source, sourceName, index, frameName, image);
        }
        if (map != null && image != null) {
            BufferedImage h = HeatmapImage.render(image, map, mapWidth, mapHeight, 0, Math.max(1e-9, 2 * imageMdsa),
                    frameName + String.format(Locale.ROOT, "  image MDSA %.3f", imageMdsa));
            AtomicOutput.write(out.resolve(base + "-heatmap.png"), png(h));
        }
    }

    /** Closes a source's open MP4 clip (renamed into place). */
    void finishClip(int source) {
        VideoWriter w = clips.remove(source);
        clipLast.remove(source);
        if (w != null) {
            w.close();
            clipsWritten++;
        }
    }

    /** Finishes a clip that no open window continues (its last frame is behind the source's post-roll). */
    void finishClipsBefore(int source, long index) {
        Long last = clipLast.get(source);
        if (last != null && last < index - 1) finishClip(source);
    }

    /** Replaces status.json: atomically, or, when that fails (a full disk), in place. */
    void writeStatus(ObjectNode status) throws IOException {
        if (out == null) return;
        status.put("schemaVersion", SCHEMA_VERSION);
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(status);
        Path target = out.resolve("status.json");
        try {
            AtomicOutput.write(target, bytes);
        } catch (RuntimeException e) {
            // no room for a temporary copy: truncating the old status frees its blocks for the new one
            try (FileChannel ch = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(ByteBuffer.wrap(bytes));
                ch.force(true);
            }
        }
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (Integer s : new HashSet<>(clips.keySet())) {
            try {
                finishClip(s);
            } catch (RuntimeException e) {
                if (first == null) first = new IOException(e.getMessage(), e);
            }
        }
        if (log != null) log.close();
        if (first != null) throw first;
    }

    /** Stops the MP4 clips without keeping them (a failed run keeps what was whole: the PNGs and the log). */
    void abortClips() {
        for (VideoWriter w : clips.values()) w.abort();
        clips.clear();
    }

    private static String baseName(String source, long index, String name) {
        return String.format(Locale.ROOT, "%s_%08d_%s", source, index, safe(name));
    }

    /** The frame's name without its image extension, in characters every file system takes. */
    static String safe(String name) {
        String stem = name.replaceFirst("(?i)\\.(png|jpe?g|bmp)$", "");
        return stem.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    static byte[] png(BufferedImage img) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ImageIO.write(img, "png", b);
        return b.toByteArray();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
