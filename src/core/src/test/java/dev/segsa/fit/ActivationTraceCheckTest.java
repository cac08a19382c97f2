package dev.segsa.fit;

import dev.segsa.features.AxisInterpolation;
import dev.segsa.features.UpsampleMode;
import dev.segsa.model.SegmentationModel;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The activation-trace check on outputs built in the test: logits that are a 1x1 convolution of
 * the features, upsampled (the contract), give R^2 = 1 and full agreement; logits with an extra
 * per-pixel term the features do not carry (a stand-in for a skip path) are flagged.
 */
class ActivationTraceCheckTest {
    static SegmentationModel.HostOutputs outputs(int d, int classes, int h0, int w0, int height, int width, double skip, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] f = new float[d * h0 * w0];
        for (int i = 0; i < f.length; i++) f[i] = (float) r.nextGaussian();
        double[] w = new double[classes * (d + 1)];
        for (int i = 0; i < w.length; i++) w[i] = r.nextGaussian();
        // low-resolution logits = W [f; 1], then bilinear upsampling (what a 1x1 head + upsample does)
        double[] low = new double[classes * h0 * w0];
        for (int k = 0; k < classes; k++) {
            for (int cell = 0; cell < h0 * w0; cell++) {
                double v = w[k * (d + 1) + d];
                for (int j = 0; j < d; j++) v += w[k * (d + 1) + j] * f[j * h0 * w0 + cell];
                low[k * h0 * w0 + cell] = v;
            }
        }
        AxisInterpolation rows = AxisInterpolation.of(UpsampleMode.BILINEAR, h0, height);
        AxisInterpolation cols = AxisInterpolation.of(UpsampleMode.BILINEAR, w0, width);
        float[] logits = new float[classes * height * width];
        for (int k = 0; k < classes; k++) {
            int o = k * h0 * w0;
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    double v = rows.weightLo[y] * cols.weightLo[x] * low[o + rows.lo[y] * w0 + cols.lo[x]]
                            + rows.weightLo[y] * cols.weightHi[x] * low[o + rows.lo[y] * w0 + cols.hi[x]]
                            + rows.weightHi[y] * cols.weightLo[x] * low[o + rows.hi[y] * w0 + cols.lo[x]]
                            + rows.weightHi[y] * cols.weightHi[x] * low[o + rows.hi[y] * w0 + cols.hi[x]];
                    logits[k * height * width + y * width + x] = (float) (v + skip * r.nextGaussian());
                }
            }
        }
        return new SegmentationModel.HostOutputs(f, d, h0, w0, logits, classes, height, width);
    }

    @Test
    void aLinearHeadOnTheFeaturesPassesAndASkipPathIsFlagged() {
        ActivationTraceCheck ok = new ActivationTraceCheck(16, 5, 2, 3000, 1);
        ok.add(outputs(16, 5, 6, 8, 48, 64, 0, 3), UpsampleMode.BILINEAR);
        ok.add(outputs(16, 5, 6, 8, 48, 64, 0, 3), UpsampleMode.BILINEAR);
        ActivationTraceCheck.Result good = ok.result();
        assertEquals(6000, good.pixels());
        assertTrue(good.rSquared() > 0.999999, "R^2 " + good.rSquared());
        assertEquals(1.0, good.argmaxAgreement(), 1e-9);
        assertFalse(good.looksBroken(), good.line());
        assertTrue(good.line().endsWith(": ok"), good.line());

        ActivationTraceCheck skip = new ActivationTraceCheck(16, 5, 1, 3000, 1);
        skip.add(outputs(16, 5, 6, 8, 48, 64, 2.0, 4), UpsampleMode.BILINEAR);
        ActivationTraceCheck.Result bad = skip.result();
        assertTrue(bad.rSquared() < 0.99, "R^2 " + bad.rSquared());
        assertTrue(bad.looksBroken());
        assertTrue(bad.line().contains("WARNING"), bad.line());
    }
}
