package dev.segsa.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.segsa.features.AxisInterpolation;
import dev.segsa.features.FeatureMap;
import dev.segsa.features.UpsampleMode;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.KdeModel;
import dev.segsa.samodel.MahalanobisModel;
import dev.segsa.kernel.FrameScores;
import dev.segsa.kernel.ReferenceBackend;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * The float64 reference (upsampling, class statistics, MDSA, LSA, {@link ReferenceBackend}) against
 * golden vectors computed independently with numpy/scipy by {@code tools/golden/golden.py} and
 * stored in {@code src/testdata/golden/}.
 *
 * <p>Tolerances:
 * <ul>
 *   <li>interpolation taps: source indices exactly; weights within 1e-12 absolute;</li>
 *   <li>every other value: relative error below 1e-9, i.e. {@code |actual - expected| <= 1e-9 *
 *       max(|expected|, floor)}, where the floor guards against values that are zero or nearly so
 *       by cancellation: for feature maps, means and covariances the floor is the root mean square
 *       of the expected array (so an entry is compared relative to the array's scale), for SA values
 *       (MDSA, LSA, their means) it is 1.</li>
 * </ul>
 * The fixtures' float32 feature maps are stored as the float64 value of the float32, so reading
 * them back as float is exact.
 */
class ReferenceGoldenTest {
    static final double REL = 1e-9;
    static final double WEIGHT_ABS = 1e-12;
    private static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode load(String name) throws IOException {
        try (InputStream in = ReferenceGoldenTest.class.getResourceAsStream("/golden/" + name)) {
            if (in == null) fail("missing fixture /golden/" + name + " (run tools/golden/golden.py)");
            return JSON.readTree(in);
        }
    }

    static double[] doubles(JsonNode n) {
        double[] a = new double[n.size()];
        for (int i = 0; i < a.length; i++) a[i] = n.get(i).doubleValue();
        return a;
    }

    static int[] ints(JsonNode n) {
        int[] a = new int[n.size()];
        for (int i = 0; i < a.length; i++) a[i] = n.get(i).intValue();
        return a;
    }

    static float[] floats(JsonNode n) {
        float[] a = new float[n.size()];
        for (int i = 0; i < a.length; i++) {
            double v = n.get(i).doubleValue();
            a[i] = (float) v;
            if (a[i] != v) fail("fixture value " + v + " is not a float32");
        }
        return a;
    }

    static double rms(double[] a) {
        double s = 0;
        for (double v : a) s += v * v;
        return Math.sqrt(s / Math.max(1, a.length));
    }

    static void assertClose(double expected, double actual, double floor, String what) {
        double tol = REL * Math.max(Math.abs(expected), floor);
        if (!(Math.abs(actual - expected) <= tol)) {
            fail(what + ": expected " + expected + " got " + actual + " (|diff| " + Math.abs(actual - expected)
                    + " > " + tol + ")");
        }
    }

    static void assertArrayClose(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double floor = rms(expected);
        for (int i = 0; i < expected.length; i++) assertClose(expected[i], actual[i], floor, what + "[" + i + "]");
    }

    static ClassStatistics statsOf(double[] rows, int n, int d) {
        ClassStatistics s = new ClassStatistics(d);
        double[] x = new double[d];
        for (int j = 0; j < n; j++) {
            System.arraycopy(rows, j * d, x, 0, d);
            s.add(x);
        }
        return s;
    }

    static void assertStatistics(JsonNode expected, ClassStatistics actual, String what) {
        assertEquals(expected.get("count").longValue(), actual.count(), what + ": count");
        assertArrayClose(doubles(expected.get("mean")), actual.mean(), what + ": mean");
        assertArrayClose(doubles(expected.get("cov")), actual.covariance(), what + ": cov");
    }

    // ------------------------------------------------------------------ upsampling

    @Test
    void axisInterpolationMatchesPyTorchTaps() throws IOException {
        JsonNode axes = load("upsample.json").get("axes");
        assertTrue(axes.size() >= 30);
        for (JsonNode c : axes) {
            UpsampleMode mode = UpsampleMode.parse(c.get("mode").asText());
            int in = c.get("in").intValue(), out = c.get("out").intValue();
            String what = mode + " " + in + "->" + out;
            AxisInterpolation a = AxisInterpolation.of(mode, in, out);
            assertArrayEquals(ints(c.get("lo")), a.lo, what + ": lo");
            assertArrayEquals(ints(c.get("hi")), a.hi, what + ": hi");
            assertArrayEquals(doubles(c.get("weight_lo")), a.weightLo, WEIGHT_ABS, what + ": weight_lo");
            assertArrayEquals(doubles(c.get("weight_hi")), a.weightHi, WEIGHT_ABS, what + ": weight_hi");
        }
    }

    @Test
    void activationTracesMatchUpsampledMaps() throws IOException {
        for (JsonNode c : load("upsample.json").get("maps")) {
            UpsampleMode mode = UpsampleMode.parse(c.get("mode").asText());
            int d = c.get("d").intValue(), h0 = c.get("h0").intValue(), w0 = c.get("w0").intValue();
            int height = c.get("height").intValue(), width = c.get("width").intValue();
            String what = mode + " [" + d + "," + h0 + "," + w0 + "]->[" + height + "," + width + "]";
            FeatureMap f = FeatureMap.ofArray(floats(c.get("features")), d, h0, w0);
            double[] expected = doubles(c.get("upsampled"));
            double floor = rms(expected);
            AxisInterpolation rows = AxisInterpolation.of(mode, h0, height);
            AxisInterpolation cols = AxisInterpolation.of(mode, w0, width);
            double[] x = new double[d];
            for (int y = 0; y < height; y++) {
                for (int xx = 0; xx < width; xx++) {
                    f.activationTrace(rows, cols, y, xx, x);
                    for (int k = 0; k < d; k++) {
                        assertClose(expected[(k * height + y) * width + xx], x[k], floor,
                                what + " channel " + k + " pixel (" + y + "," + xx + ")");
                    }
                }
            }
        }
    }

    /** Upsampling through {@link ReferenceBackend#accumulate}: one class per pixel, so each mean is that pixel's AT. */
    @Test
    void referenceBackendUpsamplesLikePyTorch() throws IOException {
        ReferenceBackend backend = new ReferenceBackend();
        for (JsonNode c : load("upsample.json").get("maps")) {
            UpsampleMode mode = UpsampleMode.parse(c.get("mode").asText());
            int d = c.get("d").intValue(), h0 = c.get("h0").intValue(), w0 = c.get("w0").intValue();
            int height = c.get("height").intValue(), width = c.get("width").intValue();
            String what = mode + " [" + d + "," + h0 + "," + w0 + "]->[" + height + "," + width + "] backend";
            FeatureMap f = FeatureMap.ofArray(floats(c.get("features")), d, h0, w0);
            double[] expected = doubles(c.get("upsampled"));
            double floor = rms(expected);
            int pixels = height * width;
            int[] labels = new int[pixels];
            ClassStatistics[] stats = new ClassStatistics[pixels];
            for (int p = 0; p < pixels; p++) {
                labels[p] = p;
                stats[p] = new ClassStatistics(d);
            }
            backend.accumulate(f, mode, height, width, labels, stats);
            for (int p = 0; p < pixels; p++) {
                assertEquals(1, stats[p].count(), what);
                double[] m = stats[p].mean();
                for (int k = 0; k < d; k++) {
                    assertClose(expected[k * pixels + p], m[k], floor, what + " channel " + k + " pixel " + p);
                }
            }
        }
    }

    // ------------------------------------------------------------------ statistics

    @Test
    void classStatisticsMatchNumpy() throws IOException {
        for (JsonNode c : load("statistics.json").get("classes")) {
            int n = c.get("n").intValue(), d = c.get("d").intValue();
            ClassStatistics s = statsOf(doubles(c.get("ats")), n, d);
            assertStatistics(c, s, "class " + c.get("class").intValue());
            // stored form round trip
            ClassStatistics r = ClassStatistics.of(d, s.count(), s.mean(), s.comoment());
            assertStatistics(c, r, "class " + c.get("class").intValue() + " restored");
        }
    }

    @Test
    void mergedStatisticsMatchNumpy() throws IOException {
        JsonNode m = load("statistics.json").get("merge");
        int d = m.get("d").intValue();
        ClassStatistics a = statsOf(doubles(m.get("first")), m.get("n_first").intValue(), d);
        ClassStatistics b = statsOf(doubles(m.get("second")), m.get("n_second").intValue(), d);
        ClassStatistics ab = statsOf(doubles(m.get("first")), m.get("n_first").intValue(), d);
        ab.merge(b);
        assertStatistics(m, ab, "merge first+second");
        ClassStatistics ba = statsOf(doubles(m.get("second")), m.get("n_second").intValue(), d);
        ba.merge(a);
        assertStatistics(m, ba, "merge second+first");
        ClassStatistics empty = new ClassStatistics(d);
        empty.merge(ab);
        assertStatistics(m, empty, "merge into empty");
        ab.merge(new ClassStatistics(d));
        assertStatistics(m, ab, "merge of empty");
    }

    // ------------------------------------------------------------------ MDSA / LSA

    @Test
    void mdsaMatchesScipy() throws IOException {
        JsonNode stats = load("statistics.json").get("classes");
        for (JsonNode c : load("mdsa.json").get("cases")) {
            int cls = c.get("class").intValue(), d = c.get("d").intValue(), m = c.get("m").intValue();
            JsonNode source = null;
            for (JsonNode s : stats) if (s.get("class").intValue() == cls) source = s;
            assertTrue(source != null, "class " + cls + " in statistics.json");
            ClassStatistics s = statsOf(doubles(source.get("ats")), source.get("n").intValue(), d);
            MahalanobisModel model = MahalanobisModel.fit(cls, "golden" + cls, s);
            assertEquals(0.0, model.whitening().ridge(), "class " + cls + ": no ridge expected");
            // also from the stored form (count, mean, cov) of the fixture itself
            double[] cov = doubles(c.get("cov"));
            long count = c.get("count").longValue();
            double[] comoment = new double[cov.length];
            for (int i = 0; i < cov.length; i++) comoment[i] = cov[i] * (count - 1);
            MahalanobisModel stored = MahalanobisModel.fit(cls, "golden" + cls,
                    ClassStatistics.of(d, count, doubles(c.get("mean")), comoment));
            double[] q = doubles(c.get("queries"));
            double[] expected = doubles(c.get("mdsa"));
            double[] x = new double[d], z = new double[d];
            for (int j = 0; j < m; j++) {
                System.arraycopy(q, j * d, x, 0, d);
                assertClose(expected[j], model.mdsa(x, z), 1.0, "class " + cls + " MDSA query " + j);
                assertClose(expected[j], stored.mdsa(x, z), 1.0, "class " + cls + " MDSA (stored stats) query " + j);
            }
        }
    }

    @Test
    void lsaMatchesScipyGaussianKde() throws IOException {
        for (JsonNode c : load("lsa.json").get("cases")) {
            int n = c.get("n").intValue(), d = c.get("d").intValue(), m = c.get("m").intValue();
            String what = "LSA n=" + n + " d=" + d;
            KdeModel kde = KdeModel.fit(0, "golden", doubles(c.get("references")), n, d);
            assertEquals(d, kde.bandwidth().activeDimension(), what + ": active dimension");
            assertEquals(0.0, kde.bandwidth().ridge(), what + ": no ridge expected");
            double[] q = doubles(c.get("queries"));
            double[] expected = doubles(c.get("lsa"));
            double[] x = new double[d], z = new double[d];
            for (int j = 0; j < m; j++) {
                System.arraycopy(q, j * d, x, 0, d);
                double lsa = kde.lsa(x, z);
                assertTrue(Double.isFinite(lsa), what + " query " + j + " is not finite");
                assertClose(expected[j], lsa, 1.0, what + " query " + j);
            }
        }
    }

    // ------------------------------------------------------------------ whole frames through the backend

    @Test
    void referenceBackendFramesMatchNumpy() throws IOException {
        ReferenceBackend backend = new ReferenceBackend();
        for (JsonNode fr : load("backend.json").get("frames")) {
            UpsampleMode mode = UpsampleMode.parse(fr.get("mode").asText());
            int d = fr.get("d").intValue(), h0 = fr.get("h0").intValue(), w0 = fr.get("w0").intValue();
            int height = fr.get("height").intValue(), width = fr.get("width").intValue();
            int classes = fr.get("classes").intValue();
            String what = "backend frame " + mode;
            FeatureMap f = FeatureMap.ofArray(floats(fr.get("features")), d, h0, w0);
            int[] labels = ints(fr.get("labels"));
            int[] predicted = ints(fr.get("predicted"));
            ClassStatistics[] stats = new ClassStatistics[classes];
            for (int c = 0; c < classes; c++) stats[c] = new ClassStatistics(d);
            backend.accumulate(f, mode, height, width, labels, stats);
            MahalanobisModel[] mdsaModels = new MahalanobisModel[classes];
            KdeModel[] kdeModels = new KdeModel[classes];
            AxisInterpolation rows = AxisInterpolation.of(mode, h0, height);
            AxisInterpolation cols = AxisInterpolation.of(mode, w0, width);
            for (int c = 0; c < classes; c++) {
                JsonNode e = fr.get("statistics").get(c);
                assertEquals(c, e.get("class").intValue());
                assertStatistics(e, stats[c], what + " class " + c);
                mdsaModels[c] = MahalanobisModel.fit(c, "c" + c, stats[c]);
                // LSA references: every labelled AT of the class, in pixel order
                int n = (int) stats[c].count();
                double[] refs = new double[n * d];
                double[] x = new double[d];
                int j = 0;
                for (int y = 0; y < height; y++) {
                    for (int xx = 0; xx < width; xx++) {
                        if (labels[y * width + xx] != c) continue;
                        f.activationTrace(rows, cols, y, xx, x);
                        System.arraycopy(x, 0, refs, j++ * d, d);
                    }
                }
                kdeModels[c] = KdeModel.fit(c, "c" + c, refs, n, d);
            }
            int[] pixels = ints(fr.get("pixels"));
            double[] mdsaMean = doubles(fr.get("mdsa_mean"));
            double[] lsaMean = doubles(fr.get("lsa_mean"));
            FrameScores out = new FrameScores(classes);
            out.reset(height * width);
            backend.mdsa(f, mode, height, width, predicted, mdsaModels, out);
            for (int c = 0; c < classes; c++) {
                assertEquals(pixels[c], out.pixels()[c], what + " class " + c + " pixels");
                assertClose(mdsaMean[c], out.mean(c), 1.0, what + " class " + c + " mean MDSA");
            }
            out.reset(0);
            backend.lsa(f, mode, height, width, predicted, kdeModels, out);
            for (int c = 0; c < classes; c++) {
                assertEquals(pixels[c], out.pixels()[c], what + " class " + c + " pixels");
                assertClose(lsaMean[c], out.mean(c), 1.0, what + " class " + c + " mean LSA");
            }
        }
    }
}
