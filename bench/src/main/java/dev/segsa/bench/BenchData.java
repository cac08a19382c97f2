package dev.segsa.bench;

import dev.segsa.features.FeatureMap;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.KdeModel;
import dev.segsa.samodel.MahalanobisModel;
import dev.segsa.samodel.Whitening;
import dev.segsa.model.LibTorch;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded synthetic inputs shared by the benchmarks: a feature map [d, h0, w0] living in native
 * memory (the same bytes viewed as a {@link FeatureMap} for segsa and as a LibTorch tensor for the
 * peers, no copy), a blocky 12-class predicted label map at 8x the feature resolution, and
 * per-class MDSA / KDE models.
 */
final class BenchData {
    static final int CLASSES = 12;

    final int d, h0, w0, height, width, classes;
    final FloatPointer featurePointer;
    final FeatureMap features;
    final int[] predicted;

    /** @param size "64x42" (w0 x h0, output 512x336) or "128x64" (output 1024x512) */
    BenchData(int d, String size, long seed) {
        this(d, size, seed, CLASSES);
    }

    /** @param size low resolution w0 x h0 (the output is 8x each side); {@code classes} classes in the label map */
    BenchData(int d, String size, long seed, int classes) {
        String[] p = size.split("x");
        this.d = d;
        this.classes = classes;
        this.w0 = Integer.parseInt(p[0]);
        this.h0 = Integer.parseInt(p[1]);
        this.width = 8 * w0;
        this.height = 8 * h0;
        SplittableRandom r = new SplittableRandom(seed);
        int n = d * h0 * w0;
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) (r.nextGaussian() * 1.2 + 0.3);
        featurePointer = new FloatPointer(n);
        featurePointer.put(f);
        features = new FeatureMap(MemorySegment.ofAddress(featurePointer.address()).reinterpret((long) n * Float.BYTES),
                d, h0, w0);
        predicted = new int[height * width];
        // the classes in irregular blocks of about 40 x 56 pixels (like a street scene's segments)
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                long h = (y / 40) * 7919L + (x / 56) * 104729L;
                predicted[y * width + x] = (int) Math.floorMod(h * 2654435761L >>> 7, classes);
            }
        }
    }

    int pixels() {
        return height * width;
    }

    /** The features as a LibTorch tensor [1, d, h0, w0] over the same memory. */
    Tensor featureTensor() {
        LibTorch.ensureLoaded();
        return torch.from_blob(featurePointer, 1, d, h0, w0);
    }

    /** The predicted labels as an int64 tensor [H*W] (a copy). */
    Tensor predictedTensor() {
        LibTorch.ensureLoaded();
        long[] v = new long[predicted.length];
        for (int i = 0; i < v.length; i++) v[i] = predicted[i];
        LongPointer lp = new LongPointer(v);
        return torch.from_blob(lp, new long[]{v.length}, new TensorOptions(torch.ScalarType.Long)).clone();
    }

    /** A random SPD covariance A A^T / d + 0.5 I and mean, per class, fitted as MDSA models. */
    static MahalanobisModel[] mdsaModels(int d, long seed) {
        return mdsaModels(d, seed, CLASSES);
    }

    static MahalanobisModel[] mdsaModels(int d, long seed, int classes) {
        SplittableRandom r = new SplittableRandom(seed);
        MahalanobisModel[] m = new MahalanobisModel[classes];
        for (int c = 0; c < classes; c++) {
            double[] a = new double[d * d];
            for (int i = 0; i < a.length; i++) a[i] = r.nextGaussian();
            long n = 100_000;
            double[] cm = new double[d * d];
            for (int i = 0; i < d; i++) {
                for (int j = 0; j <= i; j++) {
                    double s = 0;
                    for (int k = 0; k < d; k++) s += a[i * d + k] * a[j * d + k];
                    s /= d;
                    if (i == j) s += 0.5;
                    cm[i * d + j] = s * (n - 1);
                    cm[j * d + i] = s * (n - 1);
                }
            }
            double[] mean = new double[d];
            for (int i = 0; i < d; i++) mean[i] = 0.3 + 0.2 * r.nextGaussian();
            m[c] = MahalanobisModel.fit(c, "c" + c, ClassStatistics.of(d, n, mean, cm));
        }
        return m;
    }

    /**
     * KDE models with {@code refs} references per class drawn around the feature distribution; the
     * bandwidth is Scott's factor^2 times a diagonal covariance (built directly: fitting a full
     * covariance of 10,000 x 256 references per class in Java would dominate the setup time; the
     * kernels' cost does not depend on the bandwidth's structure).
     */
    static KdeModel[] kdeModels(int d, int refs, long seed) {
        return kdeModels(d, refs, seed, CLASSES);
    }

    static KdeModel[] kdeModels(int d, int refs, long seed, int classes) {
        SplittableRandom r = new SplittableRandom(seed);
        KdeModel[] m = new KdeModel[classes];
        double factor = Math.pow(refs, -1.0 / (d + 4));
        for (int c = 0; c < classes; c++) {
            double[] data = new double[refs * d];
            double[] sd = new double[d];
            for (int i = 0; i < d; i++) sd[i] = 1.0 + 0.4 * r.nextDouble();
            for (int j = 0; j < refs; j++) {
                for (int i = 0; i < d; i++) data[j * d + i] = 0.3 + 0.1 * c + sd[i] * r.nextGaussian();
            }
            int[] active = new int[d];
            double[] chol = new double[d * d];
            for (int i = 0; i < d; i++) {
                active[i] = i;
                chol[i * d + i] = factor * sd[i];
            }
            m[c] = new KdeModel(c, data, refs, d, new Whitening(d, active, new double[d], chol, 0, List.of()));
        }
        return m;
    }
}
