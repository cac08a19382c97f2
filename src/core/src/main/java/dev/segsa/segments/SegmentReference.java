package dev.segsa.segments;

import java.util.Arrays;

/**
 * The plain-Java reference of {@link NativeSegments} ({@code segsa_segments_*}, native/segments.cpp):
 * the same table ({@link SegmentFeatures}), written for obviousness, not speed: a union-find over
 * all 8-neighbour pairs, then one float64 sum per pixel in raster order. Tests only.
 */
public final class SegmentReference {
    private SegmentReference() {}

    /**
     * Segment ids [H*W]: connected components (8-neighbourhood) of equal predicted classes, numbered
     * in the raster order of each segment's first pixel.
     */
    public static int[] label(int[] predicted, int height, int width) {
        int[] parent = new int[height * width];
        for (int p = 0; p < parent.length; p++) parent[p] = p;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int yy = y + dy, xx = x + dx;
                        if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
                        if (predicted[yy * width + xx] == predicted[y * width + x]) union(parent, y * width + x, yy * width + xx);
                    }
                }
            }
        }
        return number(parent);
    }

    /** The feature rows of the segments of {@link #label}, in segment-id order. */
    public static double[][] compute(int[] predicted, int height, int width, int classes, float[][] heatMaps,
                                     float[][] probabilitiesOrNull, int[] labelsOrNull) {
        int n = height * width;
        for (int p = 0; p < n; p++) {
            if (predicted[p] < 0 || predicted[p] >= classes) {
                throw new IllegalArgumentException("pixel " + p + " has predicted class " + predicted[p] + ", outside [0, " + classes + ")");
            }
        }
        int k = heatMaps.length;
        int[] id = label(predicted, height, width);
        int count = 0;
        for (int s : id) count = Math.max(count, s + 1);
        long[] size = new long[count], sizeIn = new long[count], hit = new long[count], known = new long[count];
        double[] sumY = new double[count], sumX = new double[count];
        double[][] heatIn = new double[count][k], heatBd = new double[count][k], prob = new double[count][classes];
        int[] cls = new int[count];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int p = y * width + x, s = id[p];
                cls[s] = predicted[p];
                size[s]++;
                sumY[s] += y;
                sumX[s] += x;
                boolean interior = true;
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int yy = y + dy, xx = x + dx;
                        if (yy < 0 || yy >= height || xx < 0 || xx >= width || id[yy * width + xx] != s) interior = false;
                    }
                }
                if (interior) sizeIn[s]++;
                for (int h = 0; h < k; h++) {
                    if (interior) heatIn[s][h] += heatMaps[h][p];
                    else heatBd[s][h] += heatMaps[h][p];
                }
                if (probabilitiesOrNull != null) {
                    for (int c = 0; c < classes; c++) prob[s][c] += probabilitiesOrNull[c][p];
                }
                if (labelsOrNull != null) {
                    int l = labelsOrNull[p];
                    if (l >= 0 && l < classes) known[s]++;
                    if (l == predicted[p]) hit[s]++;
                }
            }
        }
        long[] outside = labelsOrNull == null ? null : unionOutsidePrediction(predicted, id, count, height, width, classes, labelsOrNull);
        int f = SegmentFeatures.columns(k, classes);
        double[][] rows = new double[count][f];
        for (int s = 0; s < count; s++) {
            double[] r = rows[s];
            double sz = size[s], in = sizeIn[s], bd = sz - in;
            r[SegmentFeatures.CLASS] = cls[s];
            r[SegmentFeatures.SIZE] = sz;
            r[SegmentFeatures.SIZE_IN] = in;
            r[SegmentFeatures.SIZE_BD] = bd;
            r[SegmentFeatures.SIZE_REL] = sz / bd;
            r[SegmentFeatures.SIZE_REL_IN] = in / bd;
            r[SegmentFeatures.ROW] = sumY[s] / sz;
            r[SegmentFeatures.COL] = sumX[s] / sz;
            for (int h = 0; h < k; h++) {
                double mean = (heatIn[s][h] + heatBd[s][h]) / sz;
                double meanIn = in > 0 ? heatIn[s][h] / in : 0.0;
                r[SegmentFeatures.heat(h, SegmentFeatures.MEAN)] = mean;
                r[SegmentFeatures.heat(h, SegmentFeatures.MEAN_IN)] = meanIn;
                r[SegmentFeatures.heat(h, SegmentFeatures.MEAN_BD)] = heatBd[s][h] / bd;
                r[SegmentFeatures.heat(h, SegmentFeatures.MEAN_REL)] = mean * (sz / bd);
                r[SegmentFeatures.heat(h, SegmentFeatures.MEAN_REL_IN)] = meanIn * (in / bd);
            }
            for (int c = 0; c < classes; c++) {
                r[SegmentFeatures.probability(k, c)] = probabilitiesOrNull == null ? Double.NaN : prob[s][c] / sz;
            }
            double iou;
            if (labelsOrNull == null || known[s] == 0) iou = Double.NaN;
            else if (hit[s] == 0) iou = 0.0;
            else iou = (double) hit[s] / (known[s] + outside[s]);
            r[SegmentFeatures.iouAdj(k, classes)] = iou;
        }
        return rows;
    }

    /**
     * Per segment of class c, the number of pixels labelled c and predicted otherwise that are
     * 8-connected, through such pixels, to a pixel 8-adjacent to the segment (MetaSeg's IoU_adj
     * flood beyond the segment).
     */
    private static long[] unionOutsidePrediction(int[] predicted, int[] id, int count, int height, int width, int classes,
                                                 int[] labels) {
        int n = height * width;
        boolean[] inA = new boolean[n];
        for (int p = 0; p < n; p++) inA[p] = labels[p] >= 0 && labels[p] < classes && labels[p] != predicted[p];
        int[] parent = new int[n];
        for (int p = 0; p < n; p++) parent[p] = p;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int p = y * width + x;
                if (!inA[p]) continue;
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int yy = y + dy, xx = x + dx;
                        if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
                        int q = yy * width + xx;
                        if (inA[q] && labels[q] == labels[p]) union(parent, p, q);
                    }
                }
            }
        }
        long[] componentSize = new long[n];
        for (int p = 0; p < n; p++) if (inA[p]) componentSize[find(parent, p)]++;
        // each (segment, component) pair once
        java.util.Set<Long> counted = new java.util.HashSet<>();
        long[] outside = new long[count];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int p = y * width + x;
                if (!inA[p]) continue;
                int root = find(parent, p);
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int yy = y + dy, xx = x + dx;
                        if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
                        int q = yy * width + xx;
                        if (predicted[q] != labels[p]) continue;
                        if (counted.add((long) id[q] * n + root)) outside[id[q]] += componentSize[root];
                    }
                }
            }
        }
        return outside;
    }

    private static int find(int[] parent, int x) {
        while (parent[x] != x) x = parent[x] = parent[parent[x]];
        return x;
    }

    private static void union(int[] parent, int a, int b) {
        a = find(parent, a);
        b = find(parent, b);
        if (a != b) parent[Math.max(a, b)] = Math.min(a, b);
    }

    /** Ids in the raster order of each set's first pixel. */
    private static int[] number(int[] parent) {
        int[] id = new int[parent.length];
        int[] ofRoot = new int[parent.length];
        Arrays.fill(ofRoot, -1);
        int next = 0;
        for (int p = 0; p < parent.length; p++) {
            int r = find(parent, p);
            if (ofRoot[r] < 0) ofRoot[r] = next++;
            id[p] = ofRoot[r];
        }
        return id;
    }
}
