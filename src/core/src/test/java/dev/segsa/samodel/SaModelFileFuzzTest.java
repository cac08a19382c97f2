package dev.segsa.samodel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.segsa.error.SegsaException;
import dev.segsa.features.UpsampleMode;
import dev.segsa.model.ModelMetadata;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

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
 * Property-based fuzz of the two readers of untrusted bytes: the SA model file reader and the
 * model-metadata reader. Whatever the bytes (random truncations, bit flips, field values and body
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

    @Property(tries = 300, seed = "20261201")
    void truncations(@ForAll @IntRange(min = 0, max = 100_000) int cut) {
        readBytes(java.util.Arrays.copyOf(GOOD, cut % GOOD.length));
    }

    @Property(tries = 300, seed = "20261201")
    void bitFlips(@ForAll @IntRange(min = 1, max = 8) int flips, @ForAll long seed) {
        byte[] b = GOOD.clone();
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < flips; i++) b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
        readBytes(b);
    }

    @Provide
    Arbitrary<Object> fieldValues() {
        return Arbitraries.oneOf(Arbitraries.integers().map(i -> (Object) i),
                Arbitraries.longs().map(l -> (Object) l),
                Arbitraries.of(0, -1, 1, 65535, 65536, Integer.MAX_VALUE, Integer.MIN_VALUE, 400_000_000, 100_000).map(i -> (Object) i),
                Arbitraries.strings().ofMaxLength(8).map(x -> (Object) x),
                Arbitraries.doubles().map(x -> (Object) x),
                Arbitraries.just((Object) null));
    }

    /** Header fields replaced by random values, with the checksum made right again. */
    @Property(tries = 400, seed = "20261201")
    void headerFieldValues(@ForAll("fieldNames") String field, @ForAll("fieldValues") Object value) throws IOException {
        readBytes(rewrite(h -> {
            if (value == null) h.remove(field);
            else h.set(field, JSON.valueToTree(value));
            return h;
        }, null));
    }

    @Provide
    Arbitrary<String> fieldNames() {
        return Arbitraries.of("classes", "featureDimension", "classNames", "notes", "resize", "mean", "std", "modelFile",
                "modelSha256", "upsample", "ignoreLabel", "lsaReferences", "seed", "frames", "version");
    }

    /** Body numbers replaced by random doubles (NaN, infinities, huge counts), with the checksum made right again. */
    @Property(tries = 300, seed = "20261201")
    void bodyValues(@ForAll @IntRange(min = 0, max = 10_000) int at, @ForAll("bodyValue") double v) throws IOException {
        readBytes(rewrite(h -> h, body -> {
            int off = (at * 8) % Math.max(8, body.length - 8);
            ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN).putDouble(off - off % 4, v);
        }));
    }

    @Provide
    Arbitrary<Double> bodyValue() {
        return Arbitraries.oneOf(Arbitraries.doubles(), Arbitraries.of(Double.NaN, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY, Double.MAX_VALUE, -0.0, Double.longBitsToDouble(0x7fffffffffffffffL),
                Double.longBitsToDouble(-1L)));
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

    @Property(tries = 400, seed = "20261201")
    void metadataFieldValues(@ForAll("metadataKeys") String key, @ForAll("fieldValues") Object value,
                             @ForAll("fieldValues") Object element) {
        ObjectNode n = JSON.createObjectNode();
        n.set(key, JSON.valueToTree(value));
        ObjectNode m = JSON.createObjectNode();
        m.set(key, JSON.createArrayNode().add(JSON.valueToTree(element)).add(JSON.valueToTree(value)).add(JSON.valueToTree(element)));
        parseMetadata(n.toString());
        parseMetadata(m.toString());
    }

    @Provide
    Arbitrary<String> metadataKeys() {
        return Arbitraries.of("mean", "std", "upsample", "classNames", "ignoreLabel", "resize", "training");
    }

    @Property(tries = 300, seed = "20261201")
    void metadataTruncationsAndGarbage(@ForAll @IntRange(min = 0, max = 200) int cut, @ForAll("garbage") String junk) {
        String good = "{\"mean\": [0.39, 0.41, 0.43], \"std\": [0.3, 0.3, 0.3], \"upsample\": \"bilinear\", "
                + "\"classNames\": [\"Sky\", \"Road\"], \"ignoreLabel\": 11, \"resize\": [480, 360]}";
        parseMetadata(good.substring(0, Math.min(cut, good.length())));
        parseMetadata(junk);
        parseMetadata(good.substring(0, Math.min(cut, good.length())) + junk);
    }

    @Provide
    Arbitrary<String> garbage() {
        return Combinators.combine(Arbitraries.strings().ofMaxLength(40), Arbitraries.of("", "{", "}", "[", "]", "\"", ":", ","))
                .as((a, b) -> a + b);
    }
}
