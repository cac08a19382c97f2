package dev.segsa.segments;

import java.util.ArrayList;
import java.util.List;

/**
 * The per-segment feature row (MetaSeg-style) of {@link NativeSegments} and
 * {@link SegmentReference} ({@code segsa_segments_features}, native/segsa.h). A segment is a
 * connected component (8-neighbourhood) of the predicted class map; ids follow the raster order of
 * each segment's first pixel. Its interior: the pixels whose 8 neighbours all exist and are in the
 * segment; the boundary: the rest (pixels on the image border are boundary, so S_bd &gt;= 1).
 *
 * <p>Row layout, {@link #columns(int, int) F = 8 + 5K + C + 1} float64 values:
 * <pre>
 *   [0] class  [1] S  [2] S_in  [3] S_bd  [4] S / S_bd  [5] S_in / S_bd  [6] mean row  [7] mean column
 *   [8 + 5k + 0..4]  heat map k: E, E_in (0 when S_in = 0), E_bd, E * S / S_bd, E_in * S_in / S_bd
 *   [8 + 5K + c]     mean softmax probability of class c (NaN without probabilities)
 *   [8 + 5K + C]     IoU_adj (NaN without labels or when every pixel of the segment is an ignore pixel)
 * </pre>
 * IoU_adj is MetaSeg's (metrics.pyx, segment_search): I = the segment's pixels labelled with its
 * class c; U = its non-ignore pixels plus the pixels labelled c and predicted otherwise that are
 * 8-connected through such pixels to the segment's 8-neighbourhood; I / U, 0 when I = 0. Labels
 * outside [0, C) are ignore pixels. A NaN heat-map value makes every mean covering its pixel NaN.
 */
public final class SegmentFeatures {
    private SegmentFeatures() {}

    public static final int CLASS = 0;
    public static final int SIZE = 1;
    public static final int SIZE_IN = 2;
    public static final int SIZE_BD = 3;
    public static final int SIZE_REL = 4;
    public static final int SIZE_REL_IN = 5;
    public static final int ROW = 6;
    public static final int COL = 7;
    /** First heat-map column; heat map k starts at {@code HEAT + HEAT_STRIDE * k}. */
    public static final int HEAT = 8;
    /** Columns per heat map: mean, interior, boundary, relative, relative interior. */
    public static final int HEAT_STRIDE = 5;
    /** Offsets within a heat map's block. */
    public static final int MEAN = 0;
    public static final int MEAN_IN = 1;
    public static final int MEAN_BD = 2;
    public static final int MEAN_REL = 3;
    public static final int MEAN_REL_IN = 4;

    /** Columns of a row with {@code heatMaps} heat maps and {@code classes} classes. */
    public static int columns(int heatMaps, int classes) {
        if (heatMaps < 0 || classes <= 0) throw new IllegalArgumentException("heatMaps=" + heatMaps + ", classes=" + classes);
        return HEAT + HEAT_STRIDE * heatMaps + classes + 1;
    }

    /** Column of statistic {@code which} ({@link #MEAN} .. {@link #MEAN_REL_IN}) of heat map {@code k}. */
    public static int heat(int k, int which) {
        return HEAT + HEAT_STRIDE * k + which;
    }

    /** Column of the mean probability of class {@code c}. */
    public static int probability(int heatMaps, int c) {
        return HEAT + HEAT_STRIDE * heatMaps + c;
    }

    /** Column of IoU_adj. */
    public static int iouAdj(int heatMaps, int classes) {
        return HEAT + HEAT_STRIDE * heatMaps + classes;
    }

    /**
     * Column names: class, size, size_in, size_bd, size_rel, size_rel_in, row, col, then per heat
     * map {@code h}: h, h_in, h_bd, h_rel, h_rel_in, then prob_&lt;class name&gt;, iou_adj.
     */
    public static List<String> columnNames(List<String> heatMapNames, List<String> classNames) {
        List<String> names = new ArrayList<>(columns(heatMapNames.size(), classNames.size()));
        names.addAll(List.of("class", "size", "size_in", "size_bd", "size_rel", "size_rel_in", "row", "col"));
        for (String h : heatMapNames) {
            names.add(h);
            names.add(h + "_in");
            names.add(h + "_bd");
            names.add(h + "_rel");
            names.add(h + "_rel_in");
        }
        for (String c : classNames) names.add("prob_" + c);
        names.add("iou_adj");
        return List.copyOf(names);
    }
}
