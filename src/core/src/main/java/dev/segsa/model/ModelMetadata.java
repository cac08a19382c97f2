package dev.segsa.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.segsa.error.SegsaException;
import dev.segsa.features.UpsampleMode;
import dev.segsa.io.SmallTextFile;
import dev.segsa.io.StrictJson;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Settings a model carries so that users need not repeat them: input normalisation, upsample
 * mode, class names, ignore label and input size. Read from {@code extra/segsa.json} inside the
 * TorchScript archive, or from a sidecar {@code <model name without extension>.segsa.json}
 * beside the model file (the sidecar wins over the archive); command-line flags win over both.
 * Every field is optional.
 */
public record ModelMetadata(double[] mean, double[] std, UpsampleMode upsample, List<String> classNames,
                            Integer ignoreLabel, int[] resize) {

    public static final String ARCHIVE_ENTRY = "extra/segsa.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    public static ModelMetadata empty() {
        return new ModelMetadata(null, null, null, null, null, null);
    }

    /** The sidecar path for a model file: {@code dir/name.segsa.json} for {@code dir/name.pt}. */
    public static Path sidecarOf(Path model) {
        String name = model.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String base = dot > 0 ? name.substring(0, dot) : name;
        return model.resolveSibling(base + ".segsa.json");
    }

    /**
     * Archive metadata overlaid with the sidecar's, when either exists. A sidecar that exists but is
     * not a regular file (a directory, a FIFO, a device) is refused, not skipped.
     *
     * @throws SegsaException of kind {@link SegsaException.Kind#MODEL} naming the metadata and the problem
     */
    public static ModelMetadata read(Path model) {
        try {
            return readMetadata(model);
        } catch (SegsaException e) {
            throw e.withKind(SegsaException.Kind.MODEL);
        }
    }

    private static ModelMetadata readMetadata(Path model) {
        ModelMetadata m = empty();
        String archived = readArchiveEntry(model);
        if (archived != null) m = m.overlay(parse(archived, model + "!" + ARCHIVE_ENTRY));
        Path sidecar = sidecarOf(model);
        if (Files.exists(sidecar)) {
            m = m.overlay(parse(SmallTextFile.read(sidecar, MAX_METADATA_BYTES, "model metadata"), sidecar.toString()));
        }
        return m;
    }

    /** The largest metadata entry or sidecar read (a few hundred bytes is typical). */
    public static final int MAX_METADATA_BYTES = 1 << 20;

    private static String readArchiveEntry(Path model) {
        try (ZipFile zip = new ZipFile(model.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                if (e.getName().endsWith("/" + ARCHIVE_ENTRY)) {
                    String where = model + "!" + e.getName();
                    if (e.getSize() > MAX_METADATA_BYTES) {
                        throw new SegsaException(where + ": model metadata declares " + e.getSize() + " bytes, the limit is "
                                + MAX_METADATA_BYTES);
                    }
                    try (InputStream in = zip.getInputStream(e)) {
                        byte[] bytes = SmallTextFile.readAtMost(in, MAX_METADATA_BYTES, where, "model metadata (inflated)");
                        return SmallTextFile.decode(bytes, 0, bytes.length, where, "model metadata");
                    }
                }
            }
            return null;
        } catch (IOException e) {
            return null; // not a zip archive: LibTorch's loader reports the real problem
        }
    }

    /**
     * Parses metadata strictly ({@link StrictJson}: no key twice, nothing after the object, no NaN
     * token): every key segsa reads must have the right type (numbers where numbers belong, integers
     * that are integers, never cast), or the error names the source and the key. Other keys (e.g.
     * "training") are the model's own notes and are not read. (The wording of these errors predates
     * {@link StrictJson.Obj}'s typed accessors and is kept: the hostile-input catalogue quotes it.)
     */
    public static ModelMetadata parse(String json, String source) {
        try {
            StrictJson.Obj n = StrictJson.parseObject(json, "model metadata");
            double[] mean = triple(n, "mean");
            double[] std = triple(n, "std");
            UpsampleMode up = null;
            if (n.has("upsample")) {
                if (!n.node("upsample").isTextual()) throw new SegsaException("'upsample' must be a string");
                up = UpsampleMode.parse(n.node("upsample").asText());
            }
            List<String> names = null;
            if (n.has("classNames")) {
                JsonNode a = n.node("classNames");
                if (!a.isArray()) throw new SegsaException("'classNames' must be an array of strings");
                if (a.size() > 65535) throw new SegsaException("'classNames' has " + a.size() + " names, the limit is 65535");
                names = new ArrayList<>();
                for (JsonNode x : a) {
                    if (!x.isTextual()) throw new SegsaException("'classNames' must be an array of strings, found " + x);
                    names.add(x.asText());
                }
            }
            Integer ignore = null;
            if (n.has("ignoreLabel")) {
                JsonNode x = n.node("ignoreLabel");
                if (!isInt(x) || x.asInt() < 0 || x.asInt() > 65535) {
                    throw new SegsaException("'ignoreLabel' must be an integer 0..65535, found " + x);
                }
                ignore = x.asInt();
            }
            int[] resize = null;
            if (n.has("resize")) {
                JsonNode r = n.node("resize");
                if (!r.isArray() || r.size() != 2 || !isInt(r.get(0)) || !isInt(r.get(1))) {
                    throw new SegsaException("'resize' must be [width, height] (two integers), found " + r);
                }
                resize = new int[] {r.get(0).asInt(), r.get(1).asInt()};
            }
            return new ModelMetadata(mean, std, up, names, ignore, resize);
        } catch (SegsaException | IllegalArgumentException e) {
            throw new SegsaException(source + ": " + e.getMessage(), e);
        }
    }

    /** An integer token within Java's int: {@code 2.5}, {@code 2.0} and {@code 1e20} are not. */
    private static boolean isInt(JsonNode x) {
        return x != null && x.isIntegralNumber() && x.canConvertToInt();
    }

    private static double[] triple(StrictJson.Obj n, String key) {
        if (!n.has(key)) return null;
        JsonNode a = n.node(key);
        if (!a.isArray() || a.size() != 3) throw new SegsaException("'" + key + "' must be an array of 3 numbers (r, g, b)");
        double[] out = new double[3];
        for (int i = 0; i < 3; i++) {
            JsonNode x = a.get(i);
            if (!x.isNumber() || !Double.isFinite(x.asDouble())) {
                throw new SegsaException("'" + key + "' must be an array of 3 finite numbers (r, g, b), found " + a);
            }
            out[i] = x.asDouble();
        }
        return out;
    }

    /** This metadata with every field that {@code o} sets replaced by o's. */
    public ModelMetadata overlay(ModelMetadata o) {
        return new ModelMetadata(o.mean != null ? o.mean : mean, o.std != null ? o.std : std,
                o.upsample != null ? o.upsample : upsample, o.classNames != null ? o.classNames : classNames,
                o.ignoreLabel != null ? o.ignoreLabel : ignoreLabel, o.resize != null ? o.resize : resize);
    }

    public String toJson() {
        ObjectNode n = JSON.createObjectNode();
        if (mean != null) { ArrayNode a = n.putArray("mean"); for (double v : mean) a.add(v); }
        if (std != null) { ArrayNode a = n.putArray("std"); for (double v : std) a.add(v); }
        if (upsample != null) n.put("upsample", upsample.cliName());
        if (classNames != null) { ArrayNode a = n.putArray("classNames"); classNames.forEach(a::add); }
        if (ignoreLabel != null) n.put("ignoreLabel", ignoreLabel);
        if (resize != null) { ArrayNode a = n.putArray("resize"); a.add(resize[0]); a.add(resize[1]); }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
