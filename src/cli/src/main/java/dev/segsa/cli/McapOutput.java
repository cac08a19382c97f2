package dev.segsa.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.segsa.mcap.McapSource;
import dev.segsa.mcap.McapWriter;
import dev.segsa.model.FrameOutput;
import dev.segsa.report.HeatmapImage;
import dev.segsa.samodel.SaModel;
import dev.segsa.score.FrameResult;

import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * What {@code segsa score --mcap ... --mcap-out} writes, at each scored frame's log time: the
 * frame's scores as JSON on {@code /segsa/scores} (schema {@code segsa.FrameScores}; Foxglove's Plot
 * panel graphs e.g. {@code /segsa/scores.imageMdsa} or {@code /segsa/scores.classes.Car.mdsaP95})
 * and the MDSA map on {@code /segsa/heatmap} as a {@code foxglove.RawImage} or, with
 * {@code --mcap-heatmap png}, a {@code foxglove.CompressedImage} (rgb8, inferno, 0 to 2 sqrt(d),
 * the same scale for every frame, so frames compare by colour; Foxglove's Image panel shows it),
 * with the camera's {@code frame_id}. Both in JSON with JSON schemas, so Foxglove decodes them
 * without configuration. A Metadata record "segsa" names the model, the SA file's SHA-256 and
 * segsa's version; the header's profile is the input's when its camera messages are copied.
 */
final class McapOutput implements AutoCloseable {
    static final String SCORES_TOPIC = "/segsa/scores", HEATMAP_TOPIC = "/segsa/heatmap";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SCORES_SCHEMA = """
            {"title": "segsa.FrameScores", "type": "object", "properties": {
              "frame": {"type": "string", "description": "file:topic#index of the camera message"},
              "scored": {"type": "boolean", "description": "false when the features or logits were not finite"},
              "imageMdsa": {"type": "number", "description": "pixel-weighted mean MDSA of the frame (the paper's image SA)"},
              "classes": {"type": "object", "description": "per predicted class: pixels, mdsaMean, mdsaP95, mdsaMax, lsaMean, entropy, margin, leastConfidence, deepgini",
                "additionalProperties": {"type": "object"}}}}""";
    private static final String RAW_IMAGE_SCHEMA = """
            {"title": "foxglove.RawImage", "description": "A raw image", "type": "object", "properties": {
              "timestamp": {"type": "object", "properties": {"sec": {"type": "integer", "minimum": 0},
                "nsec": {"type": "integer", "minimum": 0, "maximum": 999999999}}},
              "frame_id": {"type": "string"}, "width": {"type": "integer", "minimum": 0}, "height": {"type": "integer", "minimum": 0},
              "encoding": {"type": "string"}, "step": {"type": "integer", "minimum": 0},
              "data": {"type": "string", "contentEncoding": "base64"}}}""";

    private static final String COMPRESSED_IMAGE_SCHEMA = """
            {"title": "foxglove.CompressedImage", "description": "A compressed image", "type": "object", "properties": {
              "timestamp": {"type": "object", "properties": {"sec": {"type": "integer", "minimum": 0},
                "nsec": {"type": "integer", "minimum": 0, "maximum": 999999999}}},
              "frame_id": {"type": "string"}, "data": {"type": "string", "contentEncoding": "base64"},
              "format": {"type": "string"}}}""";

    private final McapWriter writer;
    private final int scores, heatmap;
    private final double hi;
    private final boolean copyInput, png;

    /**
     * @param profile   the header's profile: the input log's (e.g. "ros2") when its messages are copied, else ""
     * @param png       the heatmap as a {@code foxglove.CompressedImage} PNG (45% of the raw message on CamVid frames; the chunks are compressed either way) rather than a
     *                  {@code foxglove.RawImage}
     * @param metadata  what wrote the file (model, SA file hash, segsa's version), as a Metadata record named "segsa"
     */
    McapOutput(Path file, SaModel sa, boolean copyInput, String profile, boolean png, java.util.Map<String, String> metadata) {
        this.copyInput = copyInput;
        this.png = png;
        this.writer = new McapWriter(file, copyInput && profile != null ? profile : "", "segsa score --mcap-out");
        if (metadata != null && !metadata.isEmpty()) writer.metadata("segsa", metadata);
        this.scores = writer.jsonChannel(SCORES_TOPIC, "segsa.FrameScores", SCORES_SCHEMA);
        this.heatmap = png ? writer.jsonChannel(HEATMAP_TOPIC, "foxglove.CompressedImage", COMPRESSED_IMAGE_SCHEMA)
                : writer.jsonChannel(HEATMAP_TOPIC, "foxglove.RawImage", RAW_IMAGE_SCHEMA);
        this.hi = 2 * Math.sqrt(sa.settings().featureDimension());
    }

    void add(McapSource.Frame f, FrameResult r) {
        if (copyInput) {
            McapSource.Frame x = f;
            int camera = writer.channel(x.topic(), x.message().channel().messageEncoding(), x.schema().name(), x.schema().encoding(),
                    x.schema().data());
            writer.message(camera, x.logTime(), x.message().data());
        }
        ObjectNode o = JSON.createObjectNode();
        o.put("frame", r.frame());
        o.put("scored", r.scored());
        number(o, "imageMdsa", r.imageMdsa());
        if (Double.isFinite(r.classAwareScore())) o.put("classAware", r.classAwareScore());
        if (Double.isFinite(r.risk())) o.put("risk", r.risk());
        ObjectNode classes = o.putObject("classes");
        List<String> names = r.classNames();
        for (int c = 0; c < r.classes(); c++) {
            if (r.predictedPixels()[c] == 0) continue;
            ObjectNode k = classes.putObject(names.get(c));
            k.put("pixels", r.predictedPixels()[c]);
            number(k, "mdsaMean", r.mdsaMean()[c]);
            number(k, "mdsaP95", r.mdsaP95()[c]);
            number(k, "mdsaMax", r.mdsaMax()[c]);
            if (r.lsaMean() != null) number(k, "lsaMean", r.lsaMean()[c]);
            if (r.uncertainty() != null) {
                for (int m = 0; m < r.uncertainty().length; m++) {
                    String key = FrameOutput.SoftmaxUncertainty.NAMES.get(m).equals("least_confidence") ? "leastConfidence"
                            : FrameOutput.SoftmaxUncertainty.NAMES.get(m);
                    number(k, key, r.uncertainty()[m][c]);
                }
            }
        }
        writer.message(scores, f.logTime(), bytes(o));
        int w = r.width(), h = r.height();
        byte[] rgb = new byte[3 * w * h];
        FloatBuffer map = r.mdsaMap();
        for (int i = 0; i < w * h; i++) {
            int c = HeatmapImage.colour(map.get(i) / hi);
            rgb[3 * i] = (byte) (c >> 16);
            rgb[3 * i + 1] = (byte) (c >> 8);
            rgb[3 * i + 2] = (byte) c;
        }
        ObjectNode img = JSON.createObjectNode();
        ObjectNode ts = img.putObject("timestamp");
        ts.put("sec", Math.floorDiv(f.logTime(), 1_000_000_000L));
        ts.put("nsec", Math.floorMod(f.logTime(), 1_000_000_000L));
        img.put("frame_id", f.frameId());  // the camera's, so its calibration and transforms apply to the heatmap
        if (png) {
            java.awt.image.BufferedImage b = new java.awt.image.BufferedImage(w, h, java.awt.image.BufferedImage.TYPE_INT_RGB);
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int i = 3 * (y * w + x);
                    row[x] = ((rgb[i] & 255) << 16) | ((rgb[i + 1] & 255) << 8) | (rgb[i + 2] & 255);
                }
                b.setRGB(0, y, w, 1, row, 0, w);
            }
            java.io.ByteArrayOutputStream encoded = new java.io.ByteArrayOutputStream();
            try {
                javax.imageio.ImageIO.write(b, "png", encoded);
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);  // in memory
            }
            img.put("format", "png");
            img.put("data", Base64.getEncoder().encodeToString(encoded.toByteArray()));
        } else {
            img.put("width", w);
            img.put("height", h);
            img.put("encoding", "rgb8");
            img.put("step", 3 * w);
            img.put("data", Base64.getEncoder().encodeToString(rgb));
        }
        writer.message(heatmap, f.logTime(), bytes(img));
    }

    private static void number(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) o.put(key, v);
        else o.putNull(key);
    }

    private static byte[] bytes(ObjectNode o) {
        try {
            return JSON.writeValueAsString(o).getBytes(StandardCharsets.UTF_8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    void abort() {
        writer.abort();
    }

    @Override
    public void close() {
        writer.close();
    }

    /** {@code score --mcap FILE --list}: one row per channel. */
    static String listTable(Path file) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-4s %-36s %-34s %-9s %9s %-11s%n", "id", "topic", "schema",
                "encoding", "messages", "resolution"));
        for (McapSource.ChannelInfo c : McapSource.list(file)) {
            b.append(String.format(Locale.ROOT, "%-4d %-36s %-34s %-9s %9d %-11s%s%n", c.id(), c.topic(), c.schema(), c.messageEncoding(),
                    c.messages(), c.resolution(), c.image() ? "  camera" : ""));
        }
        return b.toString().stripTrailing();
    }
}
