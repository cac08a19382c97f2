package dev.segsa.samodel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class WhiteningTest {
    @Test
    void zeroVarianceFeatureIsDroppedAndReported() {
        ClassStatistics s = new ClassStatistics(3);
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 50; i++) s.add(new double[] {r.nextGaussian(), 4.0, r.nextGaussian()});
        MahalanobisModel m = MahalanobisModel.fit(0, "road", s);
        assertArrayEquals(new int[] {0, 2}, m.whitening().active());
        assertTrue(m.whitening().notes().get(0).contains("dropped 1 of 3 features with zero variance"));
        // the constant feature does not influence MDSA
        double[] z = new double[3];
        assertEquals(m.mdsa(new double[] {0.5, 4.0, -0.5}, z), m.mdsa(new double[] {0.5, 100.0, -0.5}, z), 0.0);
    }

    @Test
    void singularCovarianceGetsAReportedRidge() {
        ClassStatistics s = new ClassStatistics(3);
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < 50; i++) {
            double a = r.nextGaussian(), b = r.nextGaussian();
            s.add(new double[] {a, b, a + b}); // rank 2
        }
        MahalanobisModel m = MahalanobisModel.fit(1, "car", s);
        assertTrue(m.whitening().ridge() > 0);
        assertTrue(m.whitening().notes().stream().anyMatch(n -> n.contains("class 1 (car)") && n.contains("added ridge")),
                m.whitening().notes().toString());
        assertTrue(Double.isFinite(m.mdsa(new double[] {1, 2, 3}, new double[3])));
    }

    @Test
    void allConstantFeaturesCannotBeFitted() {
        ClassStatistics s = new ClassStatistics(2);
        for (int i = 0; i < 5; i++) s.add(new double[] {1, 2});
        FitException e = assertThrows(FitException.class, () -> MahalanobisModel.fit(3, "sky", s));
        assertTrue(e.getMessage().contains("class 3 (sky): every feature has zero variance"));
    }
}
