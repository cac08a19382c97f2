package dev.segsa.samodel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.segsa.error.SegsaException;
import dev.segsa.features.UpsampleMode;
import dev.segsa.io.AtomicOutput;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The SA model file, format version 1. All numbers little-endian.
 *
 * <pre>
 * offset  size        field
 * 0       8           magic "SEGSA-SA"
 * 8       4  u32      format version (1)
 * 12      4  u32      header length L in bytes
 * 16      L           header: UTF-8 JSON object (fit settings, see {@link SaModel.FitSettings},
 *                     plus "classes" C, "featureDimension" d, per-class "counts" and "references",
 *                     and optionally "classFrameReference" ({@link ClassFrameReference}: minShare,
 *                     per class frames, weights and 101 quantiles or null))
 * 16+L    ...         per class c = 0..C-1:
 *                       i64 count
 *                       f64[d] mean
 *                       f64[d*d] co-moment (sum of centred outer products), row-major, symmetric
 *                       i32 n (LSA references stored for the class, 0 when LSA was skipped)
 *                       f64[n*d] references, row-major
 * end-8   8  u64      CRC-32C of every byte before it (in the low 32 bits)
 * </pre>
 * A file with another magic, another version, a wrong length or a checksum mismatch is refused.
 */
public final class SaModelFile {
    public static final int VERSION = 1;
    private static final byte[] MAGIC = "SEGSA-SA".getBytes(StandardCharsets.US_ASCII);
    private static final ObjectMapper JSON = new ObjectMapper();

    private SaModelFile() {}

    public static void write(SaModel model, Path out) {
        SaModel.FitSettings s = model.settings();
        int d = s.featureDimension(), classes = model.classes();
        ObjectNode h = JSON.createObjectNode();
        h.put("format", "segsa SA model");
        h.put("version", VERSION);
        h.put("modelFile", s.modelFile());
        h.put("modelSha256", s.modelSha256());
        h.put("upsample", s.upsample().cliName());
        doubles(h.putArray("mean"), s.mean());
        doubles(h.putArray("std"), s.std());
        if (s.resize() != null) { h.putArray("resize").add(s.resize()[0]).add(s.resize()[1]); }
        h.put("ignoreLabel", s.ignoreLabel());
        ArrayNode names = h.putArray("classNames");
        s.classNames().forEach(names::add);
        h.put("classes", classes);
        h.put("featureDimension", d);
        h.put("lsaReferences", s.lsaReferences());
        h.put("seed", s.seed());
        h.put("frames", s.frames());
        ArrayNode counts = h.putArray("counts");
        ArrayNode refs = h.putArray("references");
        long size = 16 + 8;
        for (int c = 0; c < classes; c++) {
            counts.add(model.statistics()[c].count());
            int n = refCount(model, c, d);
            refs.add(n);
            size += 8 + 8L * d + 8L * d * d + 4 + 8L * n * d;
        }
        ArrayNode notes = h.putArray("notes");
        s.notes().forEach(notes::add);
        if (model.frameReference() != null) writeFrameReference(h.putObject("classFrameReference"), model.frameReference());
        byte[] header;
        try {
            header = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(h);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        size += header.length;
        if (size > Integer.MAX_VALUE - 16) {
            throw new SegsaException(out + ": SA model would exceed 2 GiB; lower SegsaFit.Builder.lsaReferences (segsa fit: "
                    + "--lsa-references)");
        }
        ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(VERSION).putInt(header.length).put(header);
        for (int c = 0; c < classes; c++) {
            ClassStatistics st = model.statistics()[c];
            b.putLong(st.count());
            for (double v : st.mean()) b.putDouble(v);
            for (double v : st.comoment()) b.putDouble(v);
            int n = refCount(model, c, d);
            b.putInt(n);
            for (int i = 0; i < n * d; i++) b.putDouble(model.references()[c][i]);
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putLong(crc.getValue());
        AtomicOutput.write(out, b.array());
    }

    private static void writeFrameReference(ObjectNode o, ClassFrameReference r) {
        o.put("minShare", r.minShare());
        ArrayNode frames = o.putArray("frames");
        for (int n : r.frames()) frames.add(n);
        doubles(o.putArray("weights"), r.weights());
        ArrayNode q = o.putArray("quantiles");
        for (double[] row : r.quantiles()) {
            if (row == null) q.addNull(); else doubles(q.addArray(), row);
        }
    }

    private static ClassFrameReference readFrameReference(JsonNode o, int classes, Path file) {
        if (!o.isObject()) throw new SegsaException(file + ": SA model header 'classFrameReference' must be an object");
        JsonNode frames = o.get("frames"), weights = o.get("weights"), q = o.get("quantiles"), minShare = o.get("minShare");
        if (minShare == null || !minShare.isNumber() || frames == null || !frames.isArray() || frames.size() != classes
                || weights == null || !weights.isArray() || weights.size() != classes || q == null || !q.isArray() || q.size() != classes) {
            throw new SegsaException(file + ": SA model header 'classFrameReference' must hold minShare and, for each of the " + classes
                    + " classes, frames, weights and quantiles");
        }
        int[] n = new int[classes];
        double[] w = new double[classes];
        double[][] quantiles = new double[classes][];
        for (int c = 0; c < classes; c++) {
            JsonNode f = frames.get(c);
            if (!f.isIntegralNumber() || !f.canConvertToInt()) {
                throw new SegsaException(file + ": SA model header 'classFrameReference' frames[" + c + "] must be an integer, found " + f);
            }
            n[c] = f.asInt();
            if (!weights.get(c).isNumber()) {
                throw new SegsaException(file + ": SA model header 'classFrameReference' weights[" + c + "] must be a number, found " + weights.get(c));
            }
            w[c] = weights.get(c).asDouble();
            JsonNode row = q.get(c);
            if (row.isNull()) continue;
            if (!row.isArray()) throw new SegsaException(file + ": SA model header 'classFrameReference' quantiles[" + c + "] must be an array or null");
            quantiles[c] = new double[row.size()];
            for (int i = 0; i < row.size(); i++) {
                if (!row.get(i).isNumber()) {
                    throw new SegsaException(file + ": SA model header 'classFrameReference' quantiles[" + c + "][" + i + "] is not a number");
                }
                quantiles[c][i] = row.get(i).asDouble();
            }
        }
        try {
            return new ClassFrameReference(minShare.asDouble(), quantiles, n, w);
        } catch (SegsaException e) {
            throw new SegsaException(file + ": SA model header: " + e.getMessage(), e);
        }
    }

    private static int refCount(SaModel model, int c, int d) {
        return model.references() == null || model.references()[c] == null ? 0 : model.references()[c].length / d;
    }

    private static void doubles(ArrayNode a, double[] v) {
        for (double x : v) a.add(x);
    }

    /** @throws SegsaException of kind {@link SegsaException.Kind#SA_FILE} naming the file and the problem */
    public static SaModel read(Path file) {
        try {
            return readFile(file);
        } catch (SegsaException e) {
            throw e.withKind(SegsaException.Kind.SA_FILE);
        }
    }

    private static SaModel readFile(Path file) {
        if (!Files.isRegularFile(file)) throw new SegsaException(file + ": SA model file not found");
        ByteBuffer b;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long len = ch.size();
            if (len > Integer.MAX_VALUE) throw new SegsaException(file + ": SA model file is too large (" + len + " bytes)");
            b = ByteBuffer.allocate((int) len);
            while (b.hasRemaining() && ch.read(b) >= 0) { /* read all */ }
            b.flip().order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new SegsaException(file + ": cannot read SA model: " + e.getMessage(), e);
        }
        if (b.remaining() < 24) throw new SegsaException(file + ": not a segsa SA model file (too short: " + b.remaining() + " bytes)");
        byte[] magic = new byte[8];
        b.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) throw new SegsaException(file + ": not a segsa SA model file (bad magic)");
        int version = b.getInt();
        if (version != VERSION) {
            throw new SegsaException(file + ": SA model format version " + version + ", this segsa reads version " + VERSION
                    + "; refit with this version");
        }
        int total = b.limit();
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, total - 8);
        long stored = b.getLong(total - 8);
        if (stored != crc.getValue()) {
            throw new SegsaException(file + ": SA model file is truncated or corrupted (checksum mismatch)");
        }
        int headerLen = b.getInt();
        if (headerLen < 2 || 16L + headerLen > total - 8) throw new SegsaException(file + ": SA model header length is invalid");
        byte[] header = new byte[headerLen];
        b.get(header);
        try {
            JsonNode h = JSON.readTree(header);
            if (h == null || !h.isObject()) throw new SegsaException(file + ": SA model header is not a JSON object");
            int classes = intField(h, "classes", 1, 65535, file);
            int d = intField(h, "featureDimension", 1, 65535, file);
            // every class stores at least a count, a mean, a co-moment and a reference count
            long bodyBytes = total - 8L - 16L - headerLen;
            long perClass = 8L + 8L * d + 8L * d * d + 4L;
            if (perClass * classes > bodyBytes) {
                throw new SegsaException(file + ": SA model header declares " + classes + " classes of " + d + " features ("
                        + perClass * classes + " bytes at least), but the file holds " + bodyBytes + " bytes after the header");
            }
            List<String> names = strings(h, "classNames", file);
            if (names.size() != classes) {
                throw new SegsaException(file + ": SA model header has " + names.size() + " class names for " + classes + " classes");
            }
            List<String> notes = strings(h, "notes", file);
            int[] resize = null;
            if (h.hasNonNull("resize")) {
                JsonNode r = h.get("resize");
                if (!r.isArray() || r.size() != 2) throw new SegsaException(file + ": SA model header 'resize' must be [width, height]");
                resize = new int[] {r.get(0).asInt(), r.get(1).asInt()};
                if (resize[0] <= 0 || resize[1] <= 0 || resize[0] > dev.segsa.features.FrameNormalizer.MAX_SIDE
                        || resize[1] > dev.segsa.features.FrameNormalizer.MAX_SIDE) {
                    throw new SegsaException(file + ": SA model header 'resize' " + resize[0] + "x" + resize[1] + " is outside 1.."
                            + dev.segsa.features.FrameNormalizer.MAX_SIDE);
                }
            }
            double[] mean = finiteTriple(h, "mean", file), std = finiteTriple(h, "std", file);
            for (double v : std) if (!(v > 0)) throw new SegsaException(file + ": SA model header 'std' must be positive");
            SaModel.FitSettings s = new SaModel.FitSettings(text(h, "modelFile", file), text(h, "modelSha256", file),
                    UpsampleMode.parse(text(h, "upsample", file)), mean, std, resize,
                    intField(h, "ignoreLabel", 0, Integer.MAX_VALUE, file), names, d,
                    intField(h, "lsaReferences", 0, Integer.MAX_VALUE, file), h.path("seed").asLong(),
                    intField(h, "frames", 0, Integer.MAX_VALUE, file), notes);
            ClassStatistics[] stats = new ClassStatistics[classes];
            double[][] refs = new double[classes][];
            boolean anyRefs = false;
            for (int c = 0; c < classes; c++) {
                long count = b.getLong();
                if (count < 0) throw new SegsaException(file + ": class " + c + " has a negative pixel count " + count);
                double[] m = new double[d];
                b.asDoubleBuffer().get(m);
                b.position(b.position() + 8 * d);
                requireFinite(m, file, "class " + c + " (" + names.get(c) + ") mean");
                double[] m2 = new double[d * d];
                b.asDoubleBuffer().get(m2);
                b.position(b.position() + 8 * d * d);
                requireFinite(m2, file, "class " + c + " (" + names.get(c) + ") co-moment");
                stats[c] = ClassStatistics.of(d, count, m, m2);
                int n = b.getInt();
                if (n < 0 || (long) n * d * 8 > b.remaining() - 8L) {
                    throw new SegsaException(file + ": class " + c + " declares " + n + " LSA references of " + d
                            + " features, more than the file holds");
                }
                if (n > 0) {
                    refs[c] = new double[n * d];
                    b.asDoubleBuffer().get(refs[c]);
                    b.position(b.position() + 8 * n * d);
                    requireFinite(refs[c], file, "class " + c + " (" + names.get(c) + ") LSA references");
                    anyRefs = true;
                }
            }
            if (b.position() != total - 8) throw new SegsaException(file + ": SA model body length does not match its header");
            ClassFrameReference frameReference = h.hasNonNull("classFrameReference")
                    ? readFrameReference(h.get("classFrameReference"), classes, file) : null;
            return new SaModel(s, stats, anyRefs || s.lsaReferences() > 0 ? refs : null, frameReference);
        } catch (IOException | RuntimeException e) {
            if (e instanceof SegsaException se) throw se;
            throw new SegsaException(file + ": SA model file is malformed: " + e, e);
        }
    }

    private static int intField(JsonNode h, String key, int min, int max, Path file) {
        JsonNode x = h.get(key);
        if (x == null || !x.isIntegralNumber() || !x.canConvertToInt() || x.asInt() < min || x.asInt() > max) {
            throw new SegsaException(file + ": SA model header '" + key + "' must be an integer " + min + ".." + max + ", found " + x);
        }
        return x.asInt();
    }

    private static String text(JsonNode h, String key, Path file) {
        JsonNode x = h.get(key);
        if (x == null || !x.isTextual()) throw new SegsaException(file + ": SA model header '" + key + "' must be a string, found " + x);
        return x.asText();
    }

    private static List<String> strings(JsonNode h, String key, Path file) {
        JsonNode a = h.get(key);
        if (a == null || !a.isArray()) throw new SegsaException(file + ": SA model header '" + key + "' must be an array of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode x : a) {
            if (!x.isTextual()) throw new SegsaException(file + ": SA model header '" + key + "' must be an array of strings, found " + x);
            out.add(x.asText());
        }
        return out;
    }

    private static double[] finiteTriple(JsonNode h, String key, Path file) {
        JsonNode a = h.get(key);
        if (a == null || !a.isArray() || a.size() != 3) throw new SegsaException(file + ": SA model header '" + key + "' must be 3 numbers");
        double[] v = new double[3];
        for (int i = 0; i < 3; i++) {
            if (!a.get(i).isNumber() || !Double.isFinite(a.get(i).asDouble())) {
                throw new SegsaException(file + ": SA model header '" + key + "' must be 3 finite numbers, found " + a);
            }
            v[i] = a.get(i).asDouble();
        }
        return v;
    }

    private static void requireFinite(double[] v, Path file, String what) {
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) throw new SegsaException(file + ": " + what + " has a non-finite value (" + v[i] + ") at index " + i);
        }
    }

    private static double[] doubles(JsonNode a) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asDouble();
        return v;
    }
}
