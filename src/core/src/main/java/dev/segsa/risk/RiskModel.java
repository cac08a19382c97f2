package dev.segsa.risk;

import dev.segsa.error.SegsaException;
import dev.segsa.segments.SegmentFeatures;

import java.util.List;

/**
 * A risk model fitted in the lab ({@code segsa fit-risk}) and run on every frame: from each
 * predicted segment's features ({@link SegmentFeatures}: sizes, the mean MDSA, entropy and margin
 * over the segment, its interior and its boundary, their size-relative ratios, the mean softmax
 * probability of every class) it predicts the segment's adjusted IoU (MetaSeg's IoU_adj) and the
 * probability that it is 0 (a false positive segment). From those the frame's risk: one minus the
 * predicted frame mIoU (per class the mean predicted IoU_adj of its segments with an interior,
 * then the mean over the predicted classes), and the expected failed area of the weighted classes.
 *
 * <p>Input vector of a segment (see {@link #input}): the feature row without its class and IoU_adj
 * columns (without the MDSA columns when {@link #withSa} is false, without the class
 * probabilities when {@link #withProbabilities} is false), {@code log(1 + size)}, and the class
 * one-hot. The classifier is an L1-regularised logistic regression on standardised
 * inputs (MetaSeg's linear baseline); the regressor is gradient-boosted regression trees when
 * present ({@link #trees}: {@link #treeBase} plus the sum of their leaves), else the linear regression.
 *
 * @param modelSha256   the segmentation model the features come from
 * @param saFingerprint {@link dev.segsa.samodel.SaModel#fingerprint()} of the SA model whose MDSA it read
 * @param classNames    the classes, in id order
 * @param heatMaps      the heat maps of the feature rows, in order (mdsa, entropy, margin)
 * @param withSa        whether the MDSA columns are inputs
 * @param withProbabilities whether the mean class probabilities are inputs (without them the
 *                      engine does not write the probability planes: cheaper a frame)
 * @param mean          standardisation of the inputs (linear models)
 * @param scale         standardisation of the inputs (linear models), > 0
 * @param logistic      weights of the classifier on standardised inputs, then its bias (P(IoU_adj = 0))
 * @param linear        weights of the linear regressor on standardised inputs, then its bias (IoU_adj)
 * @param trees         boosted regression trees of IoU_adj on raw inputs (summed), or empty
 * @param treeBase      the boosted trees' base score (added to the sum of their leaves)
 * @param classWeights  per class weight of the expected failed area (1 by default)
 */
public record RiskModel(String modelSha256, String saFingerprint, List<String> classNames, List<String> heatMaps, boolean withSa,
                        boolean withProbabilities, double[] mean, double[] scale, double[] logistic, double[] linear, List<Tree> trees, double treeBase,
                        double[] classWeights) {

    /** The heat maps segsa computes for segments, in order. */
    public static final List<String> HEAT_MAPS = List.of("mdsa", "entropy", "margin");

    /**
     * One regression tree: node i is a leaf when {@code feature[i] < 0} (its value {@code value[i]}),
     * else it goes to {@code left[i]} when {@code (float) x[feature[i]] < threshold[i]}, else to
     * {@code right[i]} (XGBoost's rule: inputs compared in float32).
     */
    public record Tree(int[] feature, double[] threshold, int[] left, int[] right, double[] value) {
        double predict(double[] x) {
            int i = 0;
            for (int guard = 0; guard <= feature.length; guard++) {
                if (feature[i] < 0) return value[i];
                i = (float) x[feature[i]] < threshold[i] ? left[i] : right[i];
            }
            throw new SegsaException("risk model: a tree has a cycle");
        }

        void validate(int inputs, int t) {
            int n = feature.length;
            if (threshold.length != n || left.length != n || right.length != n || value.length != n || n == 0) {
                throw new SegsaException("tree " + t + " has arrays of different lengths");
            }
            for (int i = 0; i < n; i++) {
                if (feature[i] >= inputs) throw new SegsaException("tree " + t + " node " + i + " reads input " + feature[i] + " of " + inputs);
                if (feature[i] < 0) {
                    if (!Double.isFinite(value[i])) throw new SegsaException("tree " + t + " node " + i + " has a non-finite value");
                } else if (!Double.isFinite(threshold[i]) || left[i] <= i || right[i] <= i || left[i] >= n || right[i] >= n) {
                    // children after their parent (pre-order): no cycles, every path ends
                    throw new SegsaException("tree " + t + " node " + i + " has a non-finite threshold or a bad child");
                }
            }
        }
    }

    public RiskModel {
        classNames = List.copyOf(classNames);
        heatMaps = List.copyOf(heatMaps);
        trees = List.copyOf(trees);
        int n = inputs(heatMaps.size(), classNames.size(), withSa, withProbabilities);
        if (!heatMaps.equals(HEAT_MAPS)) throw new SegsaException("risk model: heat maps " + heatMaps + ", this segsa computes " + HEAT_MAPS);
        if (mean.length != n || scale.length != n || logistic.length != n + 1 || linear.length != n + 1) {
            throw new SegsaException("risk model: " + n + " inputs, but " + mean.length + " means, " + scale.length + " scales, "
                    + logistic.length + " classifier and " + linear.length + " regressor weights");
        }
        if (classWeights.length != classNames.size()) throw new SegsaException("risk model: " + classWeights.length + " class weights for "
                + classNames.size() + " classes");
        requireFinite(mean, "standardisation means");
        requireFinite(scale, "standardisation scales");
        for (double s : scale) if (!(s > 0)) throw new SegsaException("risk model: a standardisation scale is not positive");
        requireFinite(logistic, "classifier weights");
        requireFinite(linear, "regressor weights");
        requireFinite(classWeights, "class weights");
        if (!Double.isFinite(treeBase)) throw new SegsaException("risk model: the trees' base score is not finite");
        for (double w : classWeights) if (w < 0) throw new SegsaException("risk model: a class weight is negative");
        for (int t = 0; t < trees.size(); t++) {
            try {
                trees.get(t).validate(n, t);
            } catch (SegsaException e) {
                throw new SegsaException("risk model: " + e.getMessage());
            }
        }
    }

    private static void requireFinite(double[] v, String what) {
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) throw new SegsaException("risk model: " + what + " hold a non-finite value (" + v[i] + ") at " + i);
        }
    }

    /** Inputs of a segment: the feature columns without class and IoU_adj (less the MDSA block without SA), log size, the class one-hot. */
    public static int inputs(int heatMaps, int classes, boolean withSa) {
        return inputs(heatMaps, classes, withSa, true);
    }

    public static int inputs(int heatMaps, int classes, boolean withSa, boolean withProbabilities) {
        int f = SegmentFeatures.columns(heatMaps, classes) - 2;
        if (!withSa) f -= SegmentFeatures.HEAT_STRIDE;
        if (!withProbabilities) f -= classes;
        return f + 1 + classes;
    }

    public int inputs() {
        return mean.length;
    }

    /** Names of the inputs, for reports. */
    public static List<String> inputNames(List<String> classNames, boolean withSa, boolean withProbabilities) {
        List<String> cols = SegmentFeatures.columnNames(HEAT_MAPS, classNames);
        List<String> out = new java.util.ArrayList<>();
        for (int j = 1; j < cols.size() - 1; j++) {
            if (!withSa && isMdsaColumn(j)) continue;
            if (!withProbabilities && isProbabilityColumn(j, classNames.size())) continue;
            out.add(cols.get(j));
        }
        out.add("log_size");
        for (String c : classNames) out.add("is_" + c);
        return out;
    }

    private static boolean isProbabilityColumn(int column, int classes) {
        int p0 = SegmentFeatures.probability(HEAT_MAPS.size(), 0);
        return column >= p0 && column < p0 + classes;
    }

    private static boolean isMdsaColumn(int column) {
        return column >= SegmentFeatures.HEAT && column < SegmentFeatures.HEAT + SegmentFeatures.HEAT_STRIDE; // heat map 0 = mdsa
    }

    /**
     * The input vector of one segment into {@code out} (length {@link #inputs(int, int, boolean)}).
     *
     * @param row    a feature row with {@link #HEAT_MAPS} heat maps and {@code classes} probabilities
     * @param offset where the row starts in {@code row}
     */
    public static void input(double[] row, int offset, int classes, boolean withSa, double[] out) {
        input(row, offset, classes, withSa, true, out);
    }

    /** As above, with or without the mean class probabilities. */
    public static void input(double[] row, int offset, int classes, boolean withSa, boolean withProbabilities, double[] out) {
        int f = SegmentFeatures.columns(HEAT_MAPS.size(), classes);
        int k = 0;
        for (int j = 1; j < f - 1; j++) {
            if (!withSa && isMdsaColumn(j)) continue;
            if (!withProbabilities && isProbabilityColumn(j, classes)) continue;
            double v = row[offset + j];
            out[k++] = Double.isFinite(v) ? v : 0;
        }
        out[k++] = Math.log1p(row[offset + SegmentFeatures.SIZE]);
        int c = (int) row[offset + SegmentFeatures.CLASS];
        for (int j = 0; j < classes; j++) out[k++] = j == c ? 1 : 0;
    }

    /** P(IoU_adj = 0) of a segment from its input vector. */
    public double probabilityZero(double[] x) {
        double z = logistic[x.length];
        for (int j = 0; j < x.length; j++) z += logistic[j] * (x[j] - mean[j]) / scale[j];
        return 1 / (1 + Math.exp(-z));
    }

    /** Predicted IoU_adj of a segment from its input vector, in [0, 1]: the boosted trees when there are some, else the linear regressor. */
    public double predictedIou(double[] x) {
        double v;
        if (!trees.isEmpty()) {
            v = treeBase;
            for (Tree t : trees) v += t.predict(x);
        } else {
            v = linearIou(x);
        }
        return Math.max(0, Math.min(1, v));
    }

    /** The linear regressor's IoU_adj (not clamped). */
    public double linearIou(double[] x) {
        double v = linear[x.length];
        for (int j = 0; j < x.length; j++) v += linear[j] * (x[j] - mean[j]) / scale[j];
        return v;
    }

    /**
     * Refuses, in one line naming {@code file}, a model fitted for another segmentation model or SA
     * model, or for other classes than the SA model's: the one check of every command (and the
     * engine) that takes a risk model beside an SA model.
     */
    public void requireFor(dev.segsa.samodel.SaModel sa, Object file) {
        requireFor(sa.settings().modelSha256(), sa.fingerprint(), file);
        if (!classNames.equals(sa.settings().classNames())) {
            throw new SegsaException(file + ": the risk model's classes " + classNames + " are not the SA model's "
                    + sa.settings().classNames());
        }
    }

    /** Refuses a model fitted for another segmentation model or SA model, in one line. */
    public void requireFor(String modelSha, String saPrint, Object file) {
        if (!modelSha256.equals(modelSha)) {
            throw new SegsaException(file + ": fitted for the segmentation model " + abbreviate(modelSha256)
                    + ", this one is " + abbreviate(modelSha) + "; refit it (segsa fit-risk) for this model");
        }
        if (!saFingerprint.equals(saPrint)) {
            throw new SegsaException(file + ": fitted with another SA model (fingerprint " + abbreviate(saFingerprint)
                    + ", this one " + abbreviate(saPrint) + "): its MDSA features would mean something else; refit it (segsa fit-risk)");
        }
    }

    private static String abbreviate(String sha) {
        return sha.length() > 12 ? sha.substring(0, 12) : sha;
    }
}
