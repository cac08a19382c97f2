package dev.segsa.risk;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.segsa.error.SegsaException;
import dev.segsa.io.AtomicOutput;
import dev.segsa.io.SmallTextFile;
import dev.segsa.io.StrictJson;
import dev.segsa.io.StrictJson.Range;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
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
    /** Writes the body (read back by {@link StrictJson}). */
    private static final ObjectMapper JSON = new ObjectMapper();

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
        byte[] all = SmallTextFile.readBytes(file, MAX_BYTES, "risk model file");
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
        StrictJson.Obj o = StrictJson.parseObject(SmallTextFile.decode(all, 16, len, file.toString(), "risk model body"), "risk model body");
        try {
            return body(o);
        } catch (SegsaException e) {
            throw e.getMessage().startsWith("risk model") ? e : new SegsaException(file + ": risk model body: " + e.getMessage(), e);
        }
    }

    /** The body's fields: every weight and threshold a finite number, every index an int (RiskModel checks how they fit together). */
    private static RiskModel body(StrictJson.Obj o) {
        List<RiskModel.Tree> trees = new ArrayList<>();
        for (StrictJson.Obj t : o.objects("trees")) {
            trees.add(new RiskModel.Tree(t.integers("feature", Range.INT), t.numbers("threshold", Range.FINITE),
                    t.integers("left", Range.INT), t.integers("right", Range.INT), t.numbers("value", Range.FINITE)));
        }
        // "withProbabilities" came after the first files were written: absent means true (those models read them)
        return new RiskModel(o.string("modelSha256"), o.string("saFingerprint"), o.strings("classNames"), o.strings("heatMaps"),
                o.bool("withSa"), o.bool("withProbabilities", true), o.numbers("mean", Range.FINITE), o.numbers("scale", Range.FINITE),
                o.numbers("logistic", Range.FINITE), o.numbers("linear", Range.FINITE), trees, o.number("treeBase", Range.FINITE),
                o.numbers("classWeights", Range.FINITE));
    }

    private static void doubles(ArrayNode a, double[] v) {
        for (double x : v) a.add(x);
    }

    private static void ints(ArrayNode a, int[] v) {
        for (int x : v) a.add(x);
    }
}
