package dev.segsa.evaluate;

import dev.segsa.error.SegsaException;
import dev.segsa.risk.RiskModel;

import java.util.ArrayList;
import java.util.List;

/**
 * The risk model's boosted trees, fitted with XGBoost4J. In a class of its own so that
 * {@link RiskModelFit} loads without XGBoost on the classpath (the Spark jobs exclude it; a risk
 * model with the linear regressor only needs none).
 */
final class BoostedTrees {
    private BoostedTrees() {}

    /**
     * Gradient-boosted regression trees (XGBoost, squared error, histogram splits, one thread so the
     * result is the same on every machine) on the raw inputs, copied into tree arrays from XGBoost's
     * JSON dump; returns the trees and, in {@code base[0]}, the base score (the mean IoU_adj).
     */
    static List<RiskModel.Tree> fit(double[][] x, double[] y, RiskModelFit.Settings s, double[] base) {
        int n = x.length, d = x[0].length;
        float[] data = new float[n * d];
        float[] label = new float[n];
        double mean = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) data[i * d + j] = (float) x[i][j];
            label[i] = (float) y[i];
            mean += y[i];
        }
        mean /= n;
        base[0] = (float) mean;
        try {
            ml.dmlc.xgboost4j.java.DMatrix m = new ml.dmlc.xgboost4j.java.DMatrix(data, n, d, Float.NaN);
            try {
                m.setLabel(label);
                java.util.Map<String, Object> p = new java.util.HashMap<>();
                p.put("objective", "reg:squarederror");
                p.put("tree_method", "hist");
                p.put("max_depth", s.depth());
                p.put("eta", 0.1);
                p.put("subsample", 0.8);
                p.put("colsample_bytree", 0.8);
                p.put("min_child_weight", 5);
                p.put("seed", (int) s.seed());
                p.put("nthread", 1);
                p.put("base_score", base[0]);
                p.put("verbosity", 0);
                ml.dmlc.xgboost4j.java.Booster b = ml.dmlc.xgboost4j.java.XGBoost.train(m, p, s.trees(), new java.util.HashMap<>(), null, null);
                try {
                    List<RiskModel.Tree> out = new ArrayList<>();
                    for (String tree : b.getModelDump((String) null, false, "json")) out.add(RiskModelFit.copy(tree));
                    return out;
                } finally {
                    b.dispose();
                }
            } finally {
                m.dispose();
            }
        } catch (ml.dmlc.xgboost4j.java.XGBoostError e) {
            throw new SegsaException("XGBoost failed to fit the risk model's trees: " + e.getMessage(), e);
        }
    }

}
