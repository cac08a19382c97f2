package dev.segsa.evaluate;

import dev.segsa.error.SegsaException;
import dev.segsa.risk.FrameRisk;
import dev.segsa.risk.RiskModel;
import dev.segsa.risk.RiskModelFile;
import dev.segsa.segments.SegmentFeatures;
import dev.segsa.scores.SegmentTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** The risk model: the linear fits against numpy/scipy, the boosted trees copied from XGBoost, the file's refusals, frame risk. */
class RiskModelTest {
    @TempDir
    Path dir;

    // golden values: numpy (seed 3) and scipy.optimize.minimize (BFGS) on the mean log-loss; numpy.linalg.lstsq
    static final double[][] Z = {{2.04, -2.56, 0.42}, {-0.57, -0.45, -0.22}, {-2.02, -0.23, -0.87}, {3.32, 0.23, -0.35}, {-0.28, -0.67, -1.06}, {-0.39, 0.48, -0.24}, {0.96, -0.2, 0.02}, {1.55, 0.55, -0.51}, {-0.18, 0.54, 1.94}, {-0.27, -0.24, 1.0}, {-0.89, -0.29, 0.88}, {0.58, 0.09, 0.67}, {-2.83, 1.02, -0.96}, {-1.67, 0.28, 0.7}, {-0.44, -1.08, 0.03}, {-0.05, 1.41, 0.75}, {0.19, 1.11, -0.21}, {-0.93, 0.58, 0.58}, {-0.21, -0.78, 0.23}, {-2.49, 0.69, 0.49}, {-1.64, 0.06, -0.96}, {0.76, -2.03, -0.91}, {0.71, 1.16, -2.16}, {-0.5, 0.33, -0.61}, {1.59, -1.19, 0.35}, {-1.05, 1.41, -0.02}, {-0.37, -1.72, 1.68}, {0.75, 0.75, 1.14}, {0.35, -0.64, -0.8}, {-0.8, 1.37, -1.46}, {-0.6, -0.32, 0.22}, {0.58, -1.25, -1.73}, {-0.0, 1.21, 0.76}, {0.22, -0.32, 0.29}, {-0.24, 0.82, -0.79}, {0.13, -0.11, 0.54}, {0.22, 2.55, 1.5}, {1.5, -2.04, -0.34}, {-0.61, 0.53, -2.28}, {1.17, 1.07, -1.3}, {-0.98, -0.8, 0.04}, {0.64, 2.05, -0.2}, {0.77, 0.16, 1.76}, {0.74, 1.37, -1.08}, {-0.19, -0.81, 1.5}, {0.66, -0.31, -0.45}, {0.48, -0.7, -0.93}, {0.48, 2.46, -0.25}, {-0.56, -1.17, -1.34}, {0.52, 0.85, 0.01}, {0.33, 0.12, 0.14}, {-1.53, -0.46, 0.11}, {-0.78, -0.48, -0.82}, {-0.33, 0.85, -0.41}, {-0.15, 0.81, 0.64}, {1.7, -2.09, 0.86}, {-0.48, 0.13, 0.84}, {1.08, 1.04, 0.16}, {1.61, -0.28, -0.14}, {0.8, -0.55, 2.16}};
    static final boolean[] POS = {true, true, false, true, true, false, true, true, false, true, false, true, false, false, true, false, false, false, true, false, true, true, false, false, true, false, true, true, true, false, false, true, false, true, false, true, false, true, false, false, false, false, false, true, true, false, true, false, true, true, false, false, false, false, false, true, true, true, true, true};
    static final double[] W_MLE = {1.7907958135629407, -2.0601754324303654, 0.02906070256256809, 0.2981693226015035};
    static final double[] Y = {5.412, 0.668, -1.346, 1.751, -0.691, -0.234, 1.714, 0.435, 4.232, 3.118, 2.656, 2.536, -3.127, 1.232, 1.994, 1.081, -0.373, 0.997, 2.312, 0.033, -1.797, 1.497, -4.198, -0.744, 3.784, -0.9, 6.016, 2.976, 0.218, -3.606, 1.519, -0.93, 1.383, 2.139, -1.497, 2.219, 1.632, 3.3, -4.416, -2.094, 1.376, -1.008, 4.561, -2.123, 4.834, 0.659, 0.229, -1.666, -0.845, 0.45, 1.172, 0.858, -0.367, -0.924, 1.579, 5.652, 2.409, 0.824, 1.581, 6.213};
    static final double[] LS = {0.4891704707426888, -0.9961781992838308, 1.9992881466785528, 1.024396902905711};

    @Test
    void logisticWithoutPenaltyMatchesScipyAndAStrongPenaltyLeavesTheBias() {
        double[] w = RiskModelFit.l1Logistic(Z, POS, 0);
        for (int j = 0; j < W_MLE.length; j++) assertEquals(W_MLE[j], w[j], 2e-3, "weight " + j);
        double[] sparse = RiskModelFit.l1Logistic(Z, POS, 10);
        int positives = 0;
        for (boolean p : POS) if (p) positives++;
        double share = (double) positives / POS.length;
        for (int j = 0; j < 3; j++) assertEquals(0, sparse[j], 0, "weight " + j + " shrunk to 0");
        assertEquals(Math.log(share / (1 - share)), sparse[3], 1e-3, "the bias: the log-odds of the positive share");
    }

    @Test
    void leastSquaresMatchesNumpy() {
        double[] w = RiskModelFit.leastSquares(Z, Y);
        for (int j = 0; j < LS.length; j++) assertEquals(LS[j], w[j], 1e-6, "coefficient " + j);
    }

    static final List<String> CLASSES = List.of("Road", "Car", "Person");

    /** Random segment rows whose IoU_adj depends on size and mean MDSA; 40 frames of two recordings. */
    static SegmentTable table(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int f = SegmentFeatures.columns(3, CLASSES.size());
        List<String> images = new ArrayList<>();
        List<double[]> rows = new ArrayList<>();
        for (int frame = 0; frame < 40; frame++) {
            String name = (frame < 20 ? "recA_" : "recB_") + String.format("%03d", frame % 20) + ".png";
            for (int s = 0; s < 30; s++) {
                double[] v = new double[f];
                int c = r.nextInt(CLASSES.size());
                double size = Math.exp(r.nextDouble() * 8);
                v[SegmentFeatures.CLASS] = c;
                v[SegmentFeatures.SIZE] = Math.rint(size) + 1;
                v[SegmentFeatures.SIZE_BD] = Math.max(1, Math.rint(Math.sqrt(size) * 4));
                v[SegmentFeatures.SIZE_IN] = Math.max(0, v[SegmentFeatures.SIZE] - v[SegmentFeatures.SIZE_BD]);
                v[SegmentFeatures.SIZE_REL] = v[SegmentFeatures.SIZE] / v[SegmentFeatures.SIZE_BD];
                v[SegmentFeatures.SIZE_REL_IN] = v[SegmentFeatures.SIZE_IN] / v[SegmentFeatures.SIZE_BD];
                v[SegmentFeatures.ROW] = r.nextDouble() * 100;
                v[SegmentFeatures.COL] = r.nextDouble() * 100;
                double mdsa = 6 + 4 * r.nextDouble();
                for (int k = 0; k < 3; k++) {
                    double m = k == 0 ? mdsa : r.nextDouble();
                    for (int j = 0; j < SegmentFeatures.HEAT_STRIDE; j++) v[SegmentFeatures.heat(k, j)] = m * (1 + 0.1 * j);
                }
                for (int j = 0; j < CLASSES.size(); j++) v[SegmentFeatures.probability(3, j)] = j == c ? 0.8 : 0.1;
                double iou = Math.max(0, Math.min(1, 0.1 * Math.log(size) + 0.5 - 0.25 * (mdsa - 6) + 0.1 * r.nextGaussian()));
                v[f - 1] = iou < 0.15 ? 0 : iou;
                images.add(name);
                rows.add(v);
            }
        }
        return new SegmentTable(CLASSES, images, rows);
    }

    @Test
    void theBoostedTreesAreCopiedFromXgboostAndTheFileRoundTrips() throws Exception {
        SegmentTable t = table(1);
        int[] idx = RiskModelFit.trainable(t);
        RiskModel m = RiskModelFit.fit(t, idx, true, new RiskModelFit.Settings(20, 4, 1, 2), "ab", "cd", null);
        assertEquals(20, m.trees().size());
        // the copied trees against XGBoost's own predictions of the same booster (trained again with the same settings)
        double[][] x = RiskModelFit.inputs(t, idx, true);
        int n = x.length, d = x[0].length;
        float[] data = new float[n * d];
        float[] label = new float[n];
        double mean = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) data[i * d + j] = (float) x[i][j];
            label[i] = (float) t.rows().get(idx[i])[t.columns() - 1];
            mean += label[i];
        }
        var dm = new ml.dmlc.xgboost4j.java.DMatrix(data, n, d, Float.NaN);
        dm.setLabel(label);
        java.util.Map<String, Object> p = new java.util.HashMap<>();
        p.put("objective", "reg:squarederror");
        p.put("tree_method", "hist");
        p.put("max_depth", 4);
        p.put("eta", 0.1);
        p.put("subsample", 0.8);
        p.put("colsample_bytree", 0.8);
        p.put("min_child_weight", 5);
        p.put("seed", 2);
        p.put("nthread", 1);
        p.put("base_score", (float) (mean / n));
        p.put("verbosity", 0);
        var booster = ml.dmlc.xgboost4j.java.XGBoost.train(dm, p, 20, new java.util.HashMap<>(), null, null);
        float[][] xgb = booster.predict(dm);
        int clamped = 0;
        for (int i = 0; i < n; i++) {
            double v = xgb[i][0];
            if (v < 0 || v > 1) clamped++;
            assertEquals(Math.max(0, Math.min(1, v)), m.predictedIou(x[i]), 1e-5, "segment " + i);
        }
        assertTrue(clamped < n, "predictions inside [0, 1] are compared unclamped");
        booster.dispose();
        dm.dispose();
        Path f = dir.resolve("risk.model");
        RiskModelFile.write(m, f);
        RiskModel back = RiskModelFile.read(f);
        for (int i = 0; i < x.length; i += 5) {
            assertEquals(m.predictedIou(x[i]), back.predictedIou(x[i]), 0);
            assertEquals(m.probabilityZero(x[i]), back.probabilityZero(x[i]), 0);
        }
        back.requireFor("ab", "cd", f);
        SegsaException other = assertThrows(SegsaException.class, () -> back.requireFor("ab", "ce", f));
        assertTrue(other.getMessage().startsWith(f + ": fitted with another SA model"), other.getMessage());
        assertThrows(SegsaException.class, () -> back.requireFor("zz", "cd", f));
    }

    @Test
    void truncatedCorruptAndNanFilesAreRefusedInOneLineNamingTheFile() throws Exception {
        SegmentTable t = table(2);
        RiskModel m = RiskModelFit.fit(t, RiskModelFit.trainable(t), false, new RiskModelFit.Settings(5, 3, 1, 1), "ab", "cd", null);
        Path f = dir.resolve("m.model");
        RiskModelFile.write(m, f);
        byte[] good = Files.readAllBytes(f);
        Path cut = dir.resolve("cut.model");
        Files.write(cut, java.util.Arrays.copyOf(good, good.length - 100));
        assertRefused(cut, "truncated");
        Path flipped = dir.resolve("flip.model");
        byte[] b = good.clone();
        b[good.length / 2] ^= 4;
        Files.write(flipped, b);
        assertRefused(flipped, "checksum");
        // a NaN weight with a valid checksum: written by hand as a lenient writer would
        String body = new String(good, 16, good.length - 24, StandardCharsets.UTF_8);
        String nan = body.replaceFirst("\"logistic\":\\[[^,\\]]+", "\"logistic\":[NaN");
        Path nanFile = dir.resolve("nan.model");
        Files.write(nanFile, frame(nan.getBytes(StandardCharsets.UTF_8)));
        assertRefused(nanFile, "");
        String dup = body.replaceFirst("\\{", "{\"withSa\":true,");
        Path dupFile = dir.resolve("dup.model");
        Files.write(dupFile, frame(dup.getBytes(StandardCharsets.UTF_8)));
        assertRefused(dupFile, "");
        assertRefused(dir.resolve("missing.model"), "not found");
    }

    static byte[] frame(byte[] body) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16 + body.length + 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put("SEGSA-RK".getBytes(StandardCharsets.US_ASCII)).putInt(1).putInt(body.length).put(body);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putLong(crc.getValue());
        return b.array();
    }

    static void assertRefused(Path f, String word) {
        SegsaException e = assertThrows(SegsaException.class, () -> RiskModelFile.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(word), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    @Test
    void frameRiskIsOneMinusTheMeanPredictedClassIou() {
        // a model whose trees predict 0.25 for every Car segment and 0.75 for the rest: one split on is_Car
        int n = RiskModel.inputs(3, CLASSES.size(), true);
        int carInput = n - CLASSES.size() + 1; // is_Car
        RiskModel.Tree tree = new RiskModel.Tree(new int[] {carInput, -1, -1}, new double[] {0.5, 0, 0}, new int[] {1, 0, 0},
                new int[] {2, 0, 0}, new double[] {0, 0.75, 0.25});
        double[] ones = new double[n];
        java.util.Arrays.fill(ones, 1);
        double[] w = new double[n + 1]; // P(IoU_adj = 0) = 1/2 everywhere
        RiskModel m = new RiskModel("a", "b", CLASSES, RiskModel.HEAT_MAPS, true, true, new double[n], ones, w, w.clone(), List.of(tree), 0,
                new double[] {0, 1, 1});
        int f = SegmentFeatures.columns(3, CLASSES.size());
        double[] rows = new double[3 * f];
        // Road (100 px, interior 50), Car (40 px, interior 10), Car (4 px, no interior: left out of the class mean)
        double[][] seg = {{0, 100, 50}, {1, 40, 10}, {1, 4, 0}};
        for (int s = 0; s < 3; s++) {
            rows[s * f + SegmentFeatures.CLASS] = seg[s][0];
            rows[s * f + SegmentFeatures.SIZE] = seg[s][1];
            rows[s * f + SegmentFeatures.SIZE_IN] = seg[s][2];
        }
        FrameRisk r = new FrameRisk(m);
        r.compute(rows, 3, 144);
        assertEquals(0.75, r.classIou(0), 1e-12);
        assertEquals(0.25, r.classIou(1), 1e-12);
        assertTrue(Double.isNaN(r.classIou(2)));
        assertEquals(0.5, r.risk(), 1e-12);
        // expected failed area: (40 + 4) x 1/2 x weight 1 (Road weighs 0) over 144 pixels
        assertEquals(22.0 / 144, r.failedArea(), 1e-12);
    }

    @Test
    void segmentStudyRunsBothFeatureSetsOnTheSameFoldsAndFindsTheSignal() {
        SegmentTable t = table(3);
        var res = SegmentStudy.run(t, 5, 5, 1, new RiskModelFit.Settings(10, 4, 1, 1));
        assertEquals(3, res.rows().size());
        assertTrue(res.frameRisk().containsKey("risk_noprob"));
        var soft = res.rows().get(0);
        var sa = res.rows().get(1);
        assertEquals(soft.segments(), sa.segments());
        // IoU_adj depends on MDSA here: the features with SA must add
        assertTrue(sa.aurocLogistic() > soft.aurocLogistic(), res.rows().toString());
        assertTrue(sa.r2Linear() > soft.r2Linear(), res.rows().toString());
        assertEquals(40, res.frameRisk().get("risk").size(), "every frame gets an out-of-fold risk");
        assertTrue(SegmentStudy.markdown(res).contains("softmax + MDSA"));
    }
}
