package dev.segsa.risk;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.segsa.error.SegsaException;
import dev.segsa.io.AtomicOutput;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The risk model file, format version 1: the magic {@code SEGSA-RK}, u32 version, u32 length L of
 * a UTF-8 JSON body (every field of {@link RiskModel}), the body, then u64 CRC-32C of every byte
 * before it. A file that is truncated, has another magic or version, a checksum mismatch, a
 * duplicate key, a non-finite weight or arrays that do not fit together is refused in one line
 * naming the file; so is one fitted for another segmentation or SA model ({@link RiskModel#requireFor}).
 */
public final class RiskModelFile {
    public static final int VERSION = 1;
    /** Larger files are refused before reading (a forest of 200 trees of depth 8 is about 10 MB of JSON). */
    public static final long MAX_BYTES = 256L << 20;
    private static final byte[] MAGIC = "SEGSA-RK".getBytes(StandardCharsets.US_ASCII);
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private RiskModelFile() {}

    public static void write(RiskModel m, Path out) {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", "segsa risk model");
        o.put("version", VERSION);
        o.put("modelSha256", m.modelSha256());
        o.put("saFingerprint", m.saFingerprint());
        ArrayNode names = o.putArray("classNames");
        m.classNames().forEach(names::add);
        ArrayNode heat = o.putArray("heatMaps");
        m.heatMaps().forEach(heat::add);
        o.put("withSa", m.withSa());
        o.put("withProbabilities", m.withProbabilities());
        doubles(o.putArray("mean"), m.mean());
        doubles(o.putArray("scale"), m.scale());
        doubles(o.putArray("logistic"), m.logistic());
        doubles(o.putArray("linear"), m.linear());
        doubles(o.putArray("classWeights"), m.classWeights());
        o.put("treeBase", m.treeBase());
        ArrayNode trees = o.putArray("trees");
        for (RiskModel.Tree t : m.trees()) {
            ObjectNode x = trees.addObject();
            ints(x.putArray("feature"), t.feature());
            doubles(x.putArray("threshold"), t.threshold());
            ints(x.putArray("left"), t.left());
            ints(x.putArray("right"), t.right());
            doubles(x.putArray("value"), t.value());
        }
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(o);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        ByteBuffer b = ByteBuffer.allocate(16 + body.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(VERSION).putInt(body.length).put(body);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putLong(crc.getValue());
        AtomicOutput.write(out, b.array());
    }

    /** @throws SegsaException naming the file and the problem */
    public static RiskModel read(Path file) {
        try {
            return readFile(file);
        } catch (SegsaException e) {
            throw e.getMessage().startsWith(file.toString()) ? e : new SegsaException(file + ": " + e.getMessage(), e);
        }
    }

    private static RiskModel readFile(Path file) {
        if (!Files.isRegularFile(file)) throw new SegsaException(file + ": risk model file not found (or not a regular file)");
        byte[] all;
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) throw new SegsaException(file + ": risk model file is " + size + " bytes, more than " + MAX_BYTES);
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new SegsaException(file + ": cannot read the risk model: " + e.getMessage(), e);
        }
        if (all.length < 24) throw new SegsaException(file + ": not a segsa risk model (too short: " + all.length + " bytes)");
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[8];
        b.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) throw new SegsaException(file + ": not a segsa risk model (bad magic)");
        int version = b.getInt();
        if (version != VERSION) {
            throw new SegsaException(file + ": risk model format version " + version + ", this segsa reads " + VERSION + "; refit it");
        }
        int len = b.getInt();
        if (len < 2 || 16L + len + 8 != all.length) {
            throw new SegsaException(file + ": risk model is truncated or has trailing bytes (body of " + len + " bytes declared, "
                    + all.length + " bytes in the file)");
        }
        CRC32C crc = new CRC32C();
        crc.update(all, 0, all.length - 8);
        if (b.getLong(all.length - 8) != crc.getValue()) throw new SegsaException(file + ": risk model is corrupted (checksum mismatch)");
        JsonNode o;
        try {
            o = JSON.readTree(new String(all, 16, len, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new SegsaException(file + ": risk model body is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (o == null || !o.isObject()) throw new SegsaException(file + ": risk model body is not a JSON object");
        List<RiskModel.Tree> trees = new ArrayList<>();
        JsonNode ts = field(o, "trees", file);
        if (!ts.isArray()) throw new SegsaException(file + ": risk model 'trees' must be an array");
        for (JsonNode t : ts) {
            trees.add(new RiskModel.Tree(ints(field(t, "feature", file), "feature", file), doubles(field(t, "threshold", file), "threshold", file),
                    ints(field(t, "left", file), "left", file), ints(field(t, "right", file), "right", file),
                    doubles(field(t, "value", file), "value", file)));
        }
        // "withProbabilities" came after the first files were written: absent means true (those models read them)
        JsonNode withSa = field(o, "withSa", file);
        JsonNode withProbabilities = o.has("withProbabilities") ? o.get("withProbabilities")
                : com.fasterxml.jackson.databind.node.BooleanNode.TRUE;
        if (!withSa.isBoolean()) throw new SegsaException(file + ": risk model 'withSa' must be true or false");
        if (!withProbabilities.isBoolean()) throw new SegsaException(file + ": risk model 'withProbabilities' must be true or false");
        return new RiskModel(text(o, "modelSha256", file), text(o, "saFingerprint", file), strings(o, "classNames", file),
                strings(o, "heatMaps", file), withSa.asBoolean(), withProbabilities.asBoolean(), doubles(field(o, "mean", file), "mean", file),
                doubles(field(o, "scale", file), "scale", file), doubles(field(o, "logistic", file), "logistic", file),
                doubles(field(o, "linear", file), "linear", file), trees, number(o, "treeBase", file),
                doubles(field(o, "classWeights", file), "classWeights", file));
    }

    private static JsonNode field(JsonNode o, String key, Path file) {
        JsonNode x = o.get(key);
        if (x == null) throw new SegsaException(file + ": risk model has no '" + key + "'");
        return x;
    }

    private static double number(JsonNode o, String key, Path file) {
        JsonNode x = field(o, key, file);
        if (!x.isNumber() || !Double.isFinite(x.asDouble())) throw new SegsaException(file + ": risk model '" + key + "' must be a finite number");
        return x.asDouble();
    }

    private static String text(JsonNode o, String key, Path file) {
        JsonNode x = field(o, key, file);
        if (!x.isTextual()) throw new SegsaException(file + ": risk model '" + key + "' must be a string");
        return x.asText();
    }

    private static List<String> strings(JsonNode o, String key, Path file) {
        JsonNode a = field(o, key, file);
        if (!a.isArray()) throw new SegsaException(file + ": risk model '" + key + "' must be an array of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode x : a) {
            if (!x.isTextual()) throw new SegsaException(file + ": risk model '" + key + "' must be an array of strings");
            out.add(x.asText());
        }
        return out;
    }

    private static double[] doubles(JsonNode a, String key, Path file) {
        if (!a.isArray()) throw new SegsaException(file + ": risk model '" + key + "' must be an array of numbers");
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) {
            JsonNode x = a.get(i);
            // NaN and Infinity are written as strings by lenient writers: refused here as not numbers
            if (!x.isNumber() || !Double.isFinite(x.asDouble())) {
                throw new SegsaException(file + ": risk model '" + key + "'[" + i + "] is not a finite number (" + x + ")");
            }
            v[i] = x.asDouble();
        }
        return v;
    }

    private static int[] ints(JsonNode a, String key, Path file) {
        if (!a.isArray()) throw new SegsaException(file + ": risk model '" + key + "' must be an array of integers");
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            JsonNode x = a.get(i);
            if (!x.isIntegralNumber() || !x.canConvertToInt()) {
                throw new SegsaException(file + ": risk model '" + key + "'[" + i + "] is not an integer (" + x + ")");
            }
            v[i] = x.asInt();
        }
        return v;
    }

    private static void doubles(ArrayNode a, double[] v) {
        for (double x : v) a.add(x);
    }

    private static void ints(ArrayNode a, int[] v) {
        for (int x : v) a.add(x);
    }
}
