package dev.segsa.score;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Per-class max, 95th percentile and share above a threshold of a per-pixel SA map, computed
 * with buffers reused from frame to frame: the scored values are gathered by class (counting
 * sort) and each class's percentile is found by selection, O(pixels). Not thread-safe.
 */
final class ClassPixelStatistics {
    private float[] gathered = new float[0];
    private int[] start = new int[0];
    private int[] fill = new int[0];

    /**
     * @param share null, or receives per class the share of scored pixels with value &gt; threshold
     */
    void compute(float[] map, MemorySegment predicted, int pixels, int classes, double[] max, double[] p95, double threshold,
                 double[] share) {
        if (gathered.length < pixels) gathered = new float[pixels];
        if (start.length < classes + 1) {
            start = new int[classes + 1];
            fill = new int[classes + 1];
        }
        Arrays.fill(start, 0, classes + 1, 0);
        for (int i = 0; i < pixels; i++) {
            if (!Float.isNaN(map[i])) start[predicted.getAtIndex(ValueLayout.JAVA_INT, i) + 1]++;
        }
        for (int c = 0; c < classes; c++) start[c + 1] += start[c];
        System.arraycopy(start, 0, fill, 0, classes + 1);
        for (int i = 0; i < pixels; i++) {
            float v = map[i];
            if (!Float.isNaN(v)) gathered[fill[predicted.getAtIndex(ValueLayout.JAVA_INT, i)]++] = v;
        }
        for (int c = 0; c < classes; c++) {
            int lo = start[c], n = start[c + 1] - lo;
            if (n == 0) continue;
            float m = Float.NEGATIVE_INFINITY;
            int above = 0;
            for (int i = lo; i < lo + n; i++) {
                float v = gathered[i];
                if (v > m) m = v;
                if (v > threshold) above++;
            }
            max[c] = m;
            if (share != null) share[c] = (double) above / n;
            p95[c] = percentile(gathered, lo, n, 0.95);
        }
    }

    /** numpy's default (linear) percentile of a[lo, lo+n); reorders that range. */
    static double percentile(float[] a, int lo, int n, double q) {
        double pos = q * (n - 1);
        int k = (int) Math.floor(pos);
        double frac = pos - k;
        float vk = select(a, lo, lo + n - 1, lo + k);
        if (frac == 0 || k + 1 >= n) return vk;
        float next = Float.POSITIVE_INFINITY;
        for (int i = lo + k + 1; i < lo + n; i++) if (a[i] < next) next = a[i];
        return vk + frac * ((double) next - vk);
    }

    /** The value of rank {@code k} (absolute index) of a[left..right] after partial sorting (Hoare selection). */
    private static float select(float[] a, int left, int right, int k) {
        while (right > left) {
            int mid = (left + right) >>> 1;
            // median of three as pivot
            float x = a[left], y = a[mid], z = a[right];
            float pivot = x < y ? (y < z ? y : Math.max(x, z)) : (x < z ? x : Math.max(y, z));
            int i = left, j = right;
            while (i <= j) {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) {
                    float t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            if (k <= j) right = j;
            else if (k >= i) left = i;
            else return a[k];
        }
        return a[k];
    }
}
