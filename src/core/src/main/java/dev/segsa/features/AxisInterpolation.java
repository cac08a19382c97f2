package dev.segsa.features;

/**
 * Interpolation along one axis from {@code in} source cells to {@code out} output positions:
 * output position i is {@code weightLo[i] * src[lo[i]] + weightHi[i] * src[hi[i]]}, with PyTorch
 * {@code F.interpolate} index arithmetic (explicit output size, no scale factor) evaluated in
 * float64. Nearest uses PyTorch's float32 scale so that its indices match bit for bit.
 */
public final class AxisInterpolation {
    public final int in;
    public final int out;
    public final int[] lo;
    public final int[] hi;
    public final double[] weightLo;
    public final double[] weightHi;

    private AxisInterpolation(int in, int out) {
        this.in = in;
        this.out = out;
        this.lo = new int[out];
        this.hi = new int[out];
        this.weightLo = new double[out];
        this.weightHi = new double[out];
    }

    public static AxisInterpolation of(UpsampleMode mode, int in, int out) {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("axis sizes must be positive: in=" + in + " out=" + out);
        }
        AxisInterpolation a = new AxisInterpolation(in, out);
        switch (mode) {
            case NEAREST -> {
                // aten/src/ATen/native/UpSample.h nearest_idx
                float scale = (float) in / (float) out;
                for (int i = 0; i < out; i++) {
                    int idx;
                    if (out == in) idx = i;
                    else if (out == 2 * in) idx = i >> 1;
                    else idx = Math.min((int) Math.floor((float) (i * scale)), in - 1);
                    a.lo[i] = idx;
                    a.hi[i] = idx;
                    a.weightLo[i] = 1.0;
                    a.weightHi[i] = 0.0;
                }
            }
            case BILINEAR, BILINEAR_ALIGNED -> {
                boolean aligned = mode == UpsampleMode.BILINEAR_ALIGNED;
                double scale = aligned ? (out > 1 ? (double) (in - 1) / (out - 1) : 0.0) : (double) in / out;
                for (int i = 0; i < out; i++) {
                    double src = aligned ? scale * i : scale * (i + 0.5) - 0.5;
                    if (src < 0) src = 0;
                    int i0 = (int) src; // floor, src >= 0
                    if (i0 > in - 1) i0 = in - 1;
                    int i1 = i0 < in - 1 ? i0 + 1 : i0;
                    double l1 = src - i0;
                    if (i1 == i0) l1 = 0.0;
                    a.lo[i] = i0;
                    a.hi[i] = i1;
                    a.weightLo[i] = 1.0 - l1;
                    a.weightHi[i] = l1;
                }
            }
        }
        return a;
    }
}
