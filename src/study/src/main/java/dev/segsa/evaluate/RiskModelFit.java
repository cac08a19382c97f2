package dev.segsa.evaluate;

import dev.segsa.error.SegsaException;
import dev.segsa.risk.RiskModel;
import dev.segsa.segments.SegmentFeatures;
import dev.segsa.scores.SegmentTable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fits a {@link RiskModel} on labelled segments (rows with an IoU_adj): MetaSeg's linear baseline,
 * an L1-regularised logistic regression for IoU_adj = 0 (proximal gradient, FISTA, on
 * standardised inputs) and a least-squares linear regression for IoU_adj, and gradient-boosted
 * regression trees for IoU_adj (XGBoost4J, Apache-2.0), copied into the model file's own tree
 * arrays so that the engine evaluates them without XGBoost. Only segments with an interior are
 * fitted on (single-pixel fragments carry no features worth learning from). Deterministic for a
 * seed.
 */
public final class RiskModelFit {
    /** Boosting rounds (trees), their depth, the L1 weight of the classifier (times 1/n), the seed. */
    public record Settings(int trees, int depth, double l1, long seed) {
        public static final Settings DEFAULT = new Settings(100, 6, 1.0, 1);

        public Settings {
            if (trees < 0 || trees > 2000) throw new IllegalArgumentException("trees must be 0..2000, got " + trees);
            if (depth < 1 || depth > 30) throw new IllegalArgumentException("depth must be 1..30, got " + depth);
            if (!(l1 >= 0) || Double.isInfinite(l1)) throw new IllegalArgumentException("l1 must be a finite number >= 0, got " + l1);
        }
    }

    private RiskModelFit() {}

    /** Indices of the rows fitted on: an IoU_adj and a non-empty interior. */
    public static int[] trainable(SegmentTable t) {
        int f = t.columns();
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < t.rows().size(); i++) {
            double[] r = t.rows().get(i);
            if (!Double.isNaN(r[f - 1]) && r[SegmentFeatures.SIZE_IN] > 0) out.add(i);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The input vectors of rows {@code idx}. */
    public static double[][] inputs(SegmentTable t, int[] idx, boolean withSa) {
        return inputs(t, idx, withSa, true);
    }

    public static double[][] inputs(SegmentTable t, int[] idx, boolean withSa, boolean withProbabilities) {
        int c = t.classNames().size();
        double[][] x = new double[idx.length][RiskModel.inputs(RiskModel.HEAT_MAPS.size(), c, withSa, withProbabilities)];
        for (int i = 0; i < idx.length; i++) RiskModel.input(t.rows().get(idx[i]), 0, c, withSa, withProbabilities, x[i]);
        return x;
    }

    /**
     * Fits on the rows {@code idx} of the table (each with an IoU_adj).
     *
     * @throws SegsaException when fewer than 20 segments, or all of one kind (IoU_adj = 0 or not)
     */
    public static RiskModel fit(SegmentTable t, int[] idx, boolean withSa, Settings s, String modelSha256, String saFingerprint,
                                double[] classWeights) {
        return fit(t, idx, withSa, true, s, modelSha256, saFingerprint, classWeights);
    }

    /** As above, with or without the mean class probabilities as inputs. */
    public static RiskModel fit(SegmentTable t, int[] idx, boolean withSa, boolean withProbabilities, Settings s, String modelSha256,
                                String saFingerprint, double[] classWeights) {
        int n = idx.length;
        if (n < 20) throw new SegsaException(n + " labelled segments with an interior cannot fit a risk model; score more labelled frames");
        int f = t.columns();
        double[][] x = inputs(t, idx, withSa, withProbabilities);
        double[] y = new double[n];
        boolean[] zero = new boolean[n];
        int zeros = 0;
        for (int i = 0; i < n; i++) {
            y[i] = t.rows().get(idx[i])[f - 1];
            zero[i] = y[i] == 0;
            if (zero[i]) zeros++;
        }
        if (zeros == 0 || zeros == n) {
            throw new SegsaException("all " + n + " labelled segments have IoU_adj " + (zeros == 0 ? "> 0" : "= 0")
                    + ": the classifier needs both kinds");
        }
        int d = x[0].length;
        double[] mean = new double[d], scale = new double[d];
        for (int j = 0; j < d; j++) {
            double sum = 0, ss = 0;
            for (double[] r : x) sum += r[j];
            mean[j] = sum / n;
            for (double[] r : x) ss += (r[j] - mean[j]) * (r[j] - mean[j]);
            double sd = Math.sqrt(ss / n);
            scale[j] = sd > 1e-12 ? sd : 1;
        }
        double[][] z = new double[n][d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) z[i][j] = (x[i][j] - mean[j]) / scale[j];
        double[] logistic = l1Logistic(z, zero, s.l1() / n);
        double[] linear = leastSquares(z, y);
        double[] base = {0};
        List<RiskModel.Tree> trees = s.trees() == 0 ? List.of() : BoostedTrees.fit(x, y, s, base);
        return new RiskModel(modelSha256, saFingerprint, t.classNames(), RiskModel.HEAT_MAPS, withSa, withProbabilities, mean, scale, logistic, linear, trees,
                base[0], classWeights == null ? ones(t.classNames().size()) : classWeights);
    }

    private static double[] ones(int n) {
        double[] w = new double[n];
        Arrays.fill(w, 1);
        return w;
    }

    /**
     * min over (w, b) of mean log-loss + lambda ||w||_1 (bias unpenalised), by FISTA with a fixed step
     * 1 / L, L = (d + 1) / 4 (an upper bound of the Lipschitz constant for standardised inputs).
     * Returns the weights, then the bias.
     */
    static double[] l1Logistic(double[][] z, boolean[] positive, double lambda) {
        int n = z.length, d = z[0].length;
        double step = 4.0 / (d + 1);
        double[] w = new double[d + 1], prev = new double[d + 1], v = new double[d + 1], grad = new double[d + 1];
        double t = 1;
        for (int it = 0; it < 600; it++) {
            Arrays.fill(grad, 0);
            for (int i = 0; i < n; i++) {
                double s = v[d];
                for (int j = 0; j < d; j++) s += v[j] * z[i][j];
                double p = 1 / (1 + Math.exp(-s));
                double r = (p - (positive[i] ? 1 : 0)) / n;
                for (int j = 0; j < d; j++) grad[j] += r * z[i][j];
                grad[d] += r;
            }
            System.arraycopy(w, 0, prev, 0, d + 1);
            for (int j = 0; j <= d; j++) {
                double u = v[j] - step * grad[j];
                w[j] = j == d ? u : Math.signum(u) * Math.max(0, Math.abs(u) - step * lambda);
            }
            double tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
            for (int j = 0; j <= d; j++) v[j] = w[j] + (t - 1) / tNext * (w[j] - prev[j]);
            t = tNext;
        }
        return w;
    }

    /** Least squares with an intercept on standardised inputs (a ridge of 1e-8 x n keeps it defined); weights then intercept. */
    static double[] leastSquares(double[][] z, double[] y) {
        int n = z.length, d = z[0].length, m = d + 1;
        double[][] a = new double[m][m];
        double[] b = new double[m];
        double[] row = new double[m];
        for (int i = 0; i < n; i++) {
            System.arraycopy(z[i], 0, row, 0, d);
            row[d] = 1;
            for (int p = 0; p < m; p++) {
                b[p] += row[p] * y[i];
                for (int q = 0; q <= p; q++) a[p][q] += row[p] * row[q];
            }
        }
        for (int p = 0; p < m; p++) {
            for (int q = 0; q < p; q++) a[q][p] = a[p][q];
            if (p < d) a[p][p] += 1e-8 * n;
        }
        // Gaussian elimination with partial pivoting
        for (int col = 0; col < m; col++) {
            int piv = col;
            for (int r = col + 1; r < m; r++) if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) piv = r;
            double[] tmp = a[col]; a[col] = a[piv]; a[piv] = tmp;
            double tb = b[col]; b[col] = b[piv]; b[piv] = tb;
            if (Math.abs(a[col][col]) < 1e-300) continue;
            for (int r = col + 1; r < m; r++) {
                double k = a[r][col] / a[col][col];
                if (k == 0) continue;
                for (int c = col; c < m; c++) a[r][c] -= k * a[col][c];
                b[r] -= k * b[col];
            }
        }
        double[] w = new double[m];
        for (int r = m - 1; r >= 0; r--) {
            double s = b[r];
            for (int c = r + 1; c < m; c++) s -= a[r][c] * w[c];
            w[r] = Math.abs(a[r][r]) < 1e-300 ? 0 : s / a[r][r];
        }
        return w;
    }

    /** One tree of XGBoost's JSON dump as arrays, nodes in pre-order (children after their parent); "yes" (x < t) is left. */
    static RiskModel.Tree copy(String json) {
        com.fasterxml.jackson.databind.JsonNode root;
        try {
            root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
        } catch (java.io.IOException e) {
            throw new SegsaException("XGBoost dumped a tree that is not JSON: " + e.getMessage(), e);
        }
        List<Integer> feature = new ArrayList<>(), left = new ArrayList<>(), right = new ArrayList<>();
        List<Double> threshold = new ArrayList<>(), value = new ArrayList<>();
        addNode(root, feature, threshold, left, right, value);
        return new RiskModel.Tree(feature.stream().mapToInt(Integer::intValue).toArray(),
                threshold.stream().mapToDouble(Double::doubleValue).toArray(), left.stream().mapToInt(Integer::intValue).toArray(),
                right.stream().mapToInt(Integer::intValue).toArray(), value.stream().mapToDouble(Double::doubleValue).toArray());
    }

    private static int addNode(com.fasterxml.jackson.databind.JsonNode node, List<Integer> feature, List<Double> threshold,
                               List<Integer> left, List<Integer> right, List<Double> value) {
        int i = feature.size();
        feature.add(-1);
        threshold.add(0.0);
        left.add(0);
        right.add(0);
        value.add(0.0);
        if (node.has("leaf")) {
            value.set(i, node.get("leaf").asDouble());
            return i;
        }
        String split = node.get("split").asText();
        feature.set(i, Integer.parseInt(split.substring(1)));
        threshold.set(i, (double) (float) node.get("split_condition").asDouble());
        int yes = node.get("yes").asInt(), no = node.get("no").asInt();
        com.fasterxml.jackson.databind.JsonNode yesNode = null, noNode = null;
        for (com.fasterxml.jackson.databind.JsonNode c : node.get("children")) {
            if (c.get("nodeid").asInt() == yes) yesNode = c;
            if (c.get("nodeid").asInt() == no) noNode = c;
        }
        if (yesNode == null || noNode == null) throw new SegsaException("XGBoost dumped a split without its children");
        int l = addNode(yesNode, feature, threshold, left, right, value);
        int r = addNode(noNode, feature, threshold, left, right, value);
        left.set(i, l);
        right.set(i, r);
        return i;
    }
}
