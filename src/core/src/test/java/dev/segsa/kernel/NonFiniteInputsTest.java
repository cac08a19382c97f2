package dev.segsa.kernel;

import dev.segsa.features.FeatureMap;
import dev.segsa.features.UpsampleMode;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.KdeModel;
import dev.segsa.samodel.MahalanobisModel;
import dev.segsa.samodel.SaModel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Backends agree on values that are not numbers: a class whose statistics or references hold a
 * NaN gets no model (on every backend its pixels are not scored, never scored as 0.0), and the
 * classes around it score exactly as without it; a NaN or infinite feature reaches no backend
 * through the scorer, and the backends map it to NaN the same way when called directly.
 */
class NonFiniteInputsTest {
    static final int D = 6, CLASSES = 3, H0 = 5, W0 = 7, H = 20, W = 28;

    static SaModel model(boolean poisonClass1) {
        SplittableRandom r = new SplittableRandom(4);
        ClassStatistics[] stats = new ClassStatistics[CLASSES];
        double[][] refs = new double[CLASSES][];
        for (int c = 0; c < CLASSES; c++) {
            stats[c] = new ClassStatistics(D);
            refs[c] = new double[30 * D];
            for (int i = 0; i < 200; i++) {
                double[] x = new double[D];
                for (int k = 0; k < D; k++) x[k] = r.nextGaussian() * (1 + k * 0.1) + c;
                stats[c].add(x);
                if (i < 30) System.arraycopy(x, 0, refs[c], i * D, D);
            }
        }
        if (poisonClass1) {
            double[] mean = stats[1].mean();
            mean[2] = Double.NaN;
            stats[1] = ClassStatistics.of(D, stats[1].count(), mean, stats[1].comoment());
            refs[1][5] = Double.POSITIVE_INFINITY;
        }
        SaModel.FitSettings s = new SaModel.FitSettings("m.pt", "00", UpsampleMode.BILINEAR, new double[3], new double[] {1, 1, 1},
                null, 255, List.of("a", "b", "c"), D, 30, 0, 1, List.of());
        return new SaModel(s, stats, refs);
    }

    static FeatureMap features(long seed, boolean withNaN) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] f = new float[D * H0 * W0];
        for (int i = 0; i < f.length; i++) f[i] = (float) (r.nextGaussian() + 1);
        if (withNaN) {
            f[3 * H0 * W0 + 2 * W0 + 3] = Float.NaN;
            f[H0 * W0 + 1] = Float.POSITIVE_INFINITY;
        }
        return FeatureMap.ofArray(f, D, H0, W0);
    }

    static int[] predicted() {
        int[] p = new int[H * W];
        for (int i = 0; i < p.length; i++) p[i] = (i % W) * CLASSES / W;
        return p;
    }

    @Test
    void aPoisonedClassGetsNoModelOnEveryBackend() {
        List<String> notes = new ArrayList<>();
        SaModel poisoned = model(true);
        MahalanobisModel[] mdsa = poisoned.mahalanobisModels(notes);
        KdeModel[] lsa = poisoned.kdeModels(notes);
        assertNull(mdsa[1]);
        assertNull(lsa[1]);
        assertTrue(notes.stream().anyMatch(n -> n.contains("class 1 (b): non-finite mean or covariance")), notes.toString());
        assertTrue(notes.stream().anyMatch(n -> n.contains("class 1 (b): non-finite LSA references")), notes.toString());
        MahalanobisModel[] cleanMdsa = model(false).mahalanobisModels(new ArrayList<>());
        FeatureMap fm = features(7, false);
        int[] pred = predicted();
        try (NativeCpuBackend nat = new NativeCpuBackend(); ReferenceBackend ref = new ReferenceBackend()) {
            for (Backend b : List.of(nat, ref)) {
                FrameScores out = new FrameScores(CLASSES);
                out.reset(H * W);
                b.mdsa(fm, UpsampleMode.BILINEAR, H, W, pred, mdsa, out);
                assertEquals(0, out.pixels()[1], b.name() + ": pixels of the poisoned class are not scored");
                assertTrue(Double.isNaN(out.mean(1)), b.name());
                for (int i = 0; i < H * W; i++) if (pred[i] == 1) assertTrue(Float.isNaN(out.map()[i]), b.name() + " pixel " + i);
                FrameScores clean = new FrameScores(CLASSES);
                clean.reset(0);
                b.mdsa(fm, UpsampleMode.BILINEAR, H, W, pred, cleanMdsa, clean);
                for (int c : new int[] {0, 2}) {
                    assertEquals(clean.mean(c), out.mean(c), 1e-12 * Math.abs(clean.mean(c)), b.name() + " class " + c);
                }
                FrameScores l = new FrameScores(CLASSES);
                l.reset(0);
                b.lsa(fm, UpsampleMode.BILINEAR, H, W, pred, lsa, l);
                assertEquals(0, l.pixels()[1], b.name() + ": no LSA for the poisoned class");
            }
        }
    }

    @Test
    void nonFiniteFeaturesMapToNaNAlikeOnBothBackends() {
        MahalanobisModel[] mdsa = model(false).mahalanobisModels(new ArrayList<>());
        FeatureMap fm = features(8, true);
        int[] pred = predicted();
        FrameScores a = new FrameScores(CLASSES), b = new FrameScores(CLASSES);
        a.reset(H * W);
        b.reset(H * W);
        try (NativeCpuBackend nat = new NativeCpuBackend(); ReferenceBackend ref = new ReferenceBackend()) {
            nat.mdsa(fm, UpsampleMode.BILINEAR, H, W, pred, mdsa, a);
            ref.mdsa(fm, UpsampleMode.BILINEAR, H, W, pred, mdsa, b);
        }
        int nan = 0;
        for (int i = 0; i < H * W; i++) {
            assertEquals(Float.isNaN(b.map()[i]), Float.isNaN(a.map()[i]), "NaN at pixel " + i + " on one backend only: native "
                    + a.map()[i] + ", reference " + b.map()[i]);
            if (Float.isNaN(b.map()[i])) nan++;
            else assertEquals(b.map()[i], a.map()[i], 1e-4f * Math.max(1, Math.abs(b.map()[i])), "pixel " + i);
        }
        assertTrue(nan > 0, "pixels touching the NaN cell must be NaN");
        assertEquals(fm.countNonFinite(), 2);
    }
}
