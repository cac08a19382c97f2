package dev.segsa.samodel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.segsa.error.SegsaException;
import dev.segsa.features.UpsampleMode;
import dev.segsa.model.ModelMetadata;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/**
 * Property-based fuzz of the two readers of untrusted bytes, the SA model file reader and the
 * model-metadata reader: seeded random inputs (SplittableRandom, so every run tries the same
 * cases) from generators that mix uniform values with the edge cases that break readers. Whatever the bytes (random truncations, bit flips, field values and body
 * numbers with a correct checksum), they give a model or a {@link SegsaException}, nothing else:
 * no OutOfMemoryError, no index or negative-size exception.
 */
class SaModelFileFuzzTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final byte[] GOOD = goodFile();

    /** A real SA file: 3 classes, d = 4, statistics of seeded traces and a few references. */
    static byte[] goodFile() {
        try {
            SplittableRandom r = new SplittableRandom(1);
            int d = 4, classes = 3;
            ClassStatistics[] stats = new ClassStatistics[classes];
            double[][] refs = new double[classes][];
            for (int c = 0; c < classes; c++) {
                stats[c] = new ClassStatistics(d);
                refs[c] = new double[5 * d];
                for (int i = 0; i < 40; i++) {
                    double[] x = new double[d];
                    for (int k = 0; k < d; k++) x[k] = r.nextGaussian() + c;
                    stats[c].add(x);
                    if (i < 5) System.arraycopy(x, 0, refs[c], i * d, d);
                }
            }
            SaModel.FitSettings s = new SaModel.FitSettings("m.pt", "ab".repeat(32), UpsampleMode.BILINEAR, new double[] {0.5, 0.5, 0.5},
                    new double[] {0.25, 0.25, 0.25}, null, 255, List.of("a", "b", "c"), d, 5, 0, 2, List.of());
            Path f = Files.createTempFile("segsa-fuzz", ".sa");
            SaModelFile.write(new SaModel(s, stats, refs), f);
            byte[] b = Files.readAllBytes(f);
            Files.delete(f);
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void readBytes(byte[] bytes) {
        Path f = null;
        try {
            f = Files.createTempFile("segsa-fuzz", ".sa");
            Files.write(f, bytes);
            try {
                SaModel m = SaModelFile.read(f);
                // what is read must also derive models without anything but notes
                m.mahalanobisModels(new java.util.ArrayList<>());
                m.kdeModels(new java.util.ArrayList<>());
            } catch (SegsaException expected) {
                if (expected.getMessage() == null || !expected.getMessage().startsWith(f.toString())) {
                    throw new AssertionError("message does not name the file: " + expected.getMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                if (f != null) Files.deleteIfExists(f);
            } catch (IOException ignored) {
                // temp
            }
        }
    }

    static final long SEED = 20261201L;

    /** A random header or metadata value: integers (extreme ones too), longs, short strings, doubles, or null (removed). */
    static Object value(SplittableRandom r) {
        return switch (r.nextInt(7)) {
            case 0 -> r.nextInt();
            case 1 -> r.nextLong();
            case 2 -> new int[] {0, -1, 1, 65535, 65536, Integer.MAX_VALUE, Integer.MIN_VALUE, 400_000_000, 100_000}[r.nextInt(9)];
            case 3 -> text(r, 8);
            case 4 -> r.nextBoolean() ? r.nextDouble() * Math.pow(10, r.nextInt(-20, 20)) : edgeDouble(r);
            case 5 -> r.nextInt(-3, 20);
            default -> null;
        };
    }

    static double edgeDouble(SplittableRandom r) {
        double[] e = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.MAX_VALUE, -0.0, Double.MIN_VALUE,
                Double.longBitsToDouble(0x7fffffffffffffffL), Double.longBitsToDouble(-1L), 1e308, -1e308};
        return e[r.nextInt(e.length)];
    }

    static String text(SplittableRandom r, int max) {
        int n = r.nextInt(max + 1);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) b.append((char) (r.nextBoolean() ? r.nextInt(32, 127) : r.nextInt(0, 0x3000)));
        return b.toString();
    }

    @Test
    void truncations() {
        SplittableRandom r = new SplittableRandom(SEED);
        for (int i = 0; i < 300; i++) readBytes(java.util.Arrays.copyOf(GOOD, i < 40 ? i : r.nextInt(GOOD.length)));
    }

    @Test
    void bitFlips() {
        SplittableRandom r = new SplittableRandom(SEED + 1);
        for (int t = 0; t < 300; t++) {
            byte[] b = GOOD.clone();
            int flips = r.nextInt(1, 9);
            for (int i = 0; i < flips; i++) b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
            readBytes(b);
        }
    }

    static final String[] FIELDS = {"classes", "featureDimension", "classNames", "notes", "resize", "mean", "std", "modelFile",
            "modelSha256", "upsample", "ignoreLabel", "lsaReferences", "seed", "frames", "version"};

    /** Header fields replaced by random values (or removed), with the checksum made right again. */
    @Test
    void headerFieldValues() throws IOException {
        SplittableRandom r = new SplittableRandom(SEED + 2);
        for (int t = 0; t < 400; t++) {
            String field = FIELDS[r.nextInt(FIELDS.length)];
            Object value = value(r);
            readBytes(rewrite(h -> {
                if (value == null) h.remove(field);
                else h.set(field, JSON.valueToTree(value));
                return h;
            }, null));
        }
    }

    /** Body numbers replaced by random doubles (NaN, infinities, huge counts), with the checksum made right again. */
    @Test
    void bodyValues() throws IOException {
        SplittableRandom r = new SplittableRandom(SEED + 3);
        for (int t = 0; t < 300; t++) {
            int at = r.nextInt(10_000);
            double v = r.nextBoolean() ? edgeDouble(r) : Double.longBitsToDouble(r.nextLong());
            readBytes(rewrite(h -> h, body -> {
                int off = (at * 8) % Math.max(8, body.length - 8);
                ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN).putDouble(off - off % 4, v);
            }));
        }
    }

    private static byte[] rewrite(java.util.function.UnaryOperator<ObjectNode> header, java.util.function.Consumer<byte[]> body)
            throws IOException {
        ByteBuffer b = ByteBuffer.wrap(GOOD).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen = b.getInt(12);
        ObjectNode h = (ObjectNode) JSON.readTree(java.util.Arrays.copyOfRange(GOOD, 16, 16 + headerLen));
        byte[] nh = JSON.writeValueAsBytes(header.apply(h));
        byte[] rest = java.util.Arrays.copyOfRange(GOOD, 16 + headerLen, GOOD.length - 8);
        if (body != null) body.accept(rest);
        ByteBuffer o = ByteBuffer.allocate(16 + nh.length + rest.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        o.put(GOOD, 0, 12).putInt(nh.length).put(nh).put(rest);
        CRC32C crc = new CRC32C();
        crc.update(o.array(), 0, o.position());
        o.putLong(crc.getValue());
        return o.array();
    }

    // ---------------------------------------------------------------- model metadata

    static void parseMetadata(String json) {
        try {
            ModelMetadata.parse(json, "fuzz.segsa.json");
        } catch (SegsaException expected) {
            if (!expected.getMessage().startsWith("fuzz.segsa.json")) throw new AssertionError(expected.getMessage());
        }
    }

    static final String[] METADATA_KEYS = {"mean", "std", "upsample", "classNames", "ignoreLabel", "resize", "training"};

    @Test
    void metadataFieldValues() {
        SplittableRandom r = new SplittableRandom(SEED + 4);
        for (int t = 0; t < 400; t++) {
            String key = METADATA_KEYS[r.nextInt(METADATA_KEYS.length)];
            Object value = value(r), element = value(r);
            ObjectNode n = JSON.createObjectNode();
            n.set(key, JSON.valueToTree(value));
            ObjectNode m = JSON.createObjectNode();
            m.set(key, JSON.createArrayNode().add(JSON.valueToTree(element)).add(JSON.valueToTree(value)).add(JSON.valueToTree(element)));
            parseMetadata(n.toString());
            parseMetadata(m.toString());
        }
    }

    @Test
    void metadataTruncationsAndGarbage() {
        String good = "{\"mean\": [0.39, 0.41, 0.43], \"std\": [0.3, 0.3, 0.3], \"upsample\": \"bilinear\", "
                + "\"classNames\": [\"Sky\", \"Road\"], \"ignoreLabel\": 11, \"resize\": [480, 360]}";
        SplittableRandom r = new SplittableRandom(SEED + 5);
        String[] tails = {"", "{", "}", "[", "]", "\"", ":", ","};
        for (int t = 0; t < 300; t++) {
            String junk = text(r, 40) + tails[r.nextInt(tails.length)];
            String cut = good.substring(0, Math.min(r.nextInt(good.length() + 1), good.length()));
            parseMetadata(cut);
            parseMetadata(junk);
            parseMetadata(cut + junk);
        }
    }
}
