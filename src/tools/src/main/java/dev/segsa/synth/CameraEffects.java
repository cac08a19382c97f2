package dev.segsa.synth;

import java.util.SplittableRandom;

/**
 * Pixel operations on a packed RGB frame: the light of the time of day (with the camera car's
 * headlight beam at night), optical blur and sensor noise. They change the image only; the
 * label of a pixel stays the class of what is there.
 */
final class CameraEffects {
    private CameraEffects() {}

    /** exp(-q^2) for q in 0..3.5. */
    private static final double[] BEAM_PROFILE = new double[1025];

    static {
        for (int i = 0; i < BEAM_PROFILE.length; i++) {
            double q = 3.5 * i / (BEAM_PROFILE.length - 1);
            BEAM_PROFILE[i] = Math.exp(-q * q);
        }
    }

    /**
     * Dusk: warm, dimmer light. Night: a dim blue ambient plus the camera car's low beam, a cone
     * on the ground ahead that fades with distance.
     */
    static void light(int[] rgb, int width, int height, TimeOfDay time, PerspectiveCamera camera) {
        if (time == TimeOfDay.DAY) return;
        boolean night = time == TimeOfDay.NIGHT;
        double ar = night ? 0.15 : 0.80, ag = night ? 0.16 : 0.64, ab = night ? 0.21 : 0.54;
        float[] beam = new float[width];
        for (int y = 0; y < height; y++) {
            double rowBeam = 0;
            double z = 0, spread = 1;
            if (night && y > camera.horizon + 1) {
                z = camera.focal * camera.mountHeight / (y + 0.5 - camera.horizon);
                rowBeam = 1.5 * Math.exp(-z / 28.0) * Math.min(1, z / 2.5);
                spread = 0.9 + 0.28 * z;
            }
            if (rowBeam > 0.004) {
                for (int x = 0; x < width; x++) {
                    double lateral = (x + 0.5 - camera.cx) * z / camera.focal - camera.curvature * z * z;
                    double q = Math.abs(lateral / spread);
                    beam[x] = q >= 3.5 ? 0f : (float) (rowBeam * BEAM_PROFILE[(int) (q * (BEAM_PROFILE.length - 1) / 3.5)]);
                }
            }
            int off = y * width;
            for (int x = 0; x < width; x++) {
                double b = rowBeam > 0.004 ? beam[x] : 0;
                int p = rgb[off + x];
                int r = (int) (((p >> 16) & 0xFF) * (ar + b) + 0.5);
                int g = (int) (((p >> 8) & 0xFF) * (ag + 0.97 * b) + 0.5);
                int bl = (int) ((p & 0xFF) * (ab + 0.85 * b) + 0.5);
                rgb[off + x] = (clamp(r) << 16) | (clamp(g) << 8) | clamp(bl);
            }
        }
    }

    /**
     * Gaussian blur of standard deviation {@code sigma} pixels, edges clamped: an exact
     * separable kernel below one pixel, three successive box filters of matching variance
     * (Wells 1986; constant cost per pixel) from one pixel up.
     */
    static void blur(int[] rgb, int width, int height, double sigma) {
        if (sigma <= 0.05) return;
        int n = rgb.length;
        int[][] ch = {new int[n], new int[n], new int[n]};
        for (int i = 0; i < n; i++) {
            int p = rgb[i];
            ch[0][i] = (p >> 16) & 0xFF;
            ch[1][i] = (p >> 8) & 0xFF;
            ch[2][i] = p & 0xFF;
        }
        int[] tmp = new int[n];
        for (int[] c : ch) {
            if (sigma < 1) {
                gaussian(c, tmp, width, height, sigma);
            } else {
                for (int box : boxes(sigma)) box(c, tmp, width, height, box / 2);
            }
        }
        for (int i = 0; i < n; i++) rgb[i] = (clamp(ch[0][i]) << 16) | (clamp(ch[1][i]) << 8) | clamp(ch[2][i]);
    }

    /** Widths of three box filters whose combined variance is closest to sigma squared. */
    static int[] boxes(double sigma) {
        double ideal = Math.sqrt(12 * sigma * sigma / 3 + 1);
        int wl = (int) Math.floor(ideal);
        if (wl % 2 == 0) wl--;
        int wu = wl + 2;
        long m = Math.round((12 * sigma * sigma - 3.0 * wl * wl - 12.0 * wl - 9) / (-4.0 * wl - 4));
        return new int[] {0 < m ? wl : wu, 1 < m ? wl : wu, 2 < m ? wl : wu};
    }

    /** Running-sum box filter of half width r along rows, then along columns (row by row, cache friendly). */
    private static void box(int[] c, int[] tmp, int width, int height, int r) {
        if (r == 0) return;
        int w = 2 * r + 1;
        int inv = (int) Math.round((double) (1 << 20) / w);
        for (int y = 0; y < height; y++) {
            int base = y * width, last = base + width - 1;
            int sum = 0;
            for (int i = -r; i <= r; i++) sum += c[base + Math.min(width - 1, Math.max(0, i))];
            for (int x = 0; x < width; x++) {
                tmp[base + x] = (sum * inv + (1 << 19)) >> 20;
                int in = x + r + 1, out = x - r;
                sum += (in < width ? c[base + in] : c[last]) - (out > 0 ? c[base + out] : c[base]);
            }
        }
        int[] sums = new int[width];
        for (int i = -r; i <= r; i++) {
            int row = Math.min(height - 1, Math.max(0, i)) * width;
            for (int x = 0; x < width; x++) sums[x] += tmp[row + x];
        }
        for (int y = 0; y < height; y++) {
            int base = y * width;
            for (int x = 0; x < width; x++) c[base + x] = (sums[x] * inv + (1 << 19)) >> 20;
            int in = Math.min(height - 1, y + r + 1) * width, out = Math.max(0, y - r) * width;
            for (int x = 0; x < width; x++) sums[x] += tmp[in + x] - tmp[out + x];
        }
    }

    /** Exact separable Gaussian (12-bit fixed-point weights), for small sigma. */
    private static void gaussian(int[] c, int[] tmp, int width, int height, double sigma) {
        int radius = (int) Math.ceil(3 * sigma);
        int[] k = new int[2 * radius + 1];
        double[] kd = new double[k.length];
        double sum = 0;
        for (int i = -radius; i <= radius; i++) sum += kd[i + radius] = Math.exp(-0.5 * i * i / (sigma * sigma));
        int total = 0;
        for (int i = 0; i < k.length; i++) total += k[i] = (int) Math.round(kd[i] / sum * 4096);
        k[radius] += 4096 - total;
        for (int y = 0; y < height; y++) {
            int base = y * width;
            for (int x = 0; x < width; x++) {
                int acc = 0;
                if (x >= radius && x < width - radius) {
                    for (int i = 0; i < k.length; i++) acc += k[i] * c[base + x - radius + i];
                } else {
                    for (int i = 0; i < k.length; i++) acc += k[i] * c[base + Math.min(width - 1, Math.max(0, x - radius + i))];
                }
                tmp[base + x] = (acc + 2048) >> 12;
            }
        }
        int[] acc = new int[width];
        for (int y = 0; y < height; y++) {
            java.util.Arrays.fill(acc, 2048);
            for (int i = 0; i < k.length; i++) {
                int row = Math.min(height - 1, Math.max(0, y - radius + i)) * width, w = k[i];
                for (int x = 0; x < width; x++) acc[x] += w * tmp[row + x];
            }
            int base = y * width;
            for (int x = 0; x < width; x++) c[base + x] = acc[x] >> 12;
        }
    }

    private static final int NOISE_TABLE = 1 << 14;

    /** Independent Gaussian noise per pixel and channel, standard deviation {@code 24 * noise} grey levels. */
    static void noise(int[] rgb, double noise, long seed) {
        if (noise <= 0) return;
        SplittableRandom r = new SplittableRandom(seed);
        double sigma = 24 * noise;
        short[] table = new short[NOISE_TABLE];
        for (int i = 0; i < NOISE_TABLE; i++) table[i] = (short) Math.round(r.nextGaussian() * sigma);
        long state = r.nextLong() | 1;
        for (int i = 0; i < rgb.length; i++) {
            state ^= state << 13;
            state ^= state >>> 7;
            state ^= state << 17;
            int p = rgb[i];
            int nr = table[(int) (state & (NOISE_TABLE - 1))];
            int ng = table[(int) ((state >>> 16) & (NOISE_TABLE - 1))];
            int nb = table[(int) ((state >>> 32) & (NOISE_TABLE - 1))];
            rgb[i] = (clamp(((p >> 16) & 0xFF) + nr) << 16) | (clamp(((p >> 8) & 0xFF) + ng) << 8) | clamp((p & 0xFF) + nb);
        }
    }

    static int clamp(int v) {
        return v < 0 ? 0 : Math.min(255, v);
    }
}
