package dev.segsa.kernel;

import dev.segsa.features.FeatureMap;
import dev.segsa.features.UpsampleMode;
import dev.segsa.model.LibTorch;
import dev.segsa.samodel.MahalanobisModel;
import dev.segsa.samodel.Whitening;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * The PaDiM-style whole-frame Mahalanobis that segsa's fused kernels are measured against, in
 * LibTorch (float32): upsample the feature map to H x W, subtract a class mean, one
 * [H*W x k] x [k x k] product with that class's inverse Cholesky factor L^-T for every pixel,
 * row sums of squares, sqrt. One class's matrix for all pixels is the peer's cheapest form, so a
 * ratio against it is conservative. For benchmarks only (not a backend: it does not pick the
 * class of each pixel). Not thread-safe.
 */
public final class PadimPeer implements AutoCloseable {
    private final Tensor mu;
    private final Tensor linvT;
    private final Tensor active;
    private final int k;

    public PadimPeer(MahalanobisModel model) {
        LibTorch.ensureLoaded();
        Whitening w = model.whitening();
        k = w.activeDimension();
        double[] inv = w.inverseCholesky();
        double[] t = new double[k * k];
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) t[i * k + j] = inv[j * k + i];
        TensorOptions dbl = new TensorOptions(torch.ScalarType.Double);
        linvT = torch.from_blob(new DoublePointer(t), new long[] {k, k}, dbl).to(torch.ScalarType.Float).clone();
        mu = torch.from_blob(new DoublePointer(w.activeMean()), new long[] {1, k}, dbl).to(torch.ScalarType.Float).clone();
        long[] idx = new long[k];
        for (int i = 0; i < k; i++) idx[i] = w.active()[i];
        active = torch.from_blob(new LongPointer(idx), new long[] {k}, new TensorOptions(torch.ScalarType.Long)).clone();
    }

    /** MDSA of every pixel against the one class, summed (so that nothing is optimised away). */
    public double frame(FeatureMap f, UpsampleMode mode, int height, int width) {
        try (PointerScope scope = new PointerScope()) {
            long n = (long) f.d() * f.h0() * f.w0();
            Tensor feat;
            if (f.data().isNative()) {
                long where = f.data().address();
                // a view of the feature map's memory (no copy); the field is Pointer.address
                FloatPointer p = new FloatPointer(new org.bytedeco.javacpp.Pointer() {
                    {
                        address = where;
                    }
                }).capacity(n).limit(n);
                feat = torch.from_blob(p, new long[] {1, f.d(), f.h0(), f.w0()}, new TensorOptions(torch.ScalarType.Float));
            } else {
                float[] copy = f.data().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
                feat = torch.from_blob(new FloatPointer(copy), new long[] {1, f.d(), f.h0(), f.w0()},
                        new TensorOptions(torch.ScalarType.Float)).clone();
            }
            long[] size = {height, width};
            Tensor up = switch (mode) {
                case BILINEAR -> torch.upsample_bilinear2d(feat, size, false);
                case BILINEAR_ALIGNED -> torch.upsample_bilinear2d(feat, size, true);
                case NEAREST -> torch.upsample_nearest2d(feat, size);
            };
            Tensor x = up.reshape(f.d(), (long) height * width).index_select(0, active).t();
            Tensor z = x.sub(mu).matmul(linvT);
            return z.mul(z).sum(1).sqrt().sum().item_double();
        }
    }

    @Override
    public void close() {
        // the tensors are released with their Java objects
    }
}
