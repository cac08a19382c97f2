package dev.segsa.evaluate;

import dev.segsa.error.SegsaException;
import org.tribuo.Example;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.sgd.linear.LinearSGDTrainer;
import org.tribuo.classification.sgd.objectives.LogMulticlass;
import org.tribuo.common.tree.RandomForestTrainer;
import org.tribuo.impl.ArrayExample;
import org.tribuo.math.optimisers.AdaGrad;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuo.regression.RegressionFactory;
import org.tribuo.regression.Regressor;
import org.tribuo.regression.ensemble.AveragingCombiner;
import org.tribuo.regression.rtree.CARTRegressionTrainer;
import org.tribuo.regression.rtree.impurity.MeanSquaredError;

import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The labelling meta-model of one class: learns, from labelled frames, how safe a frame is to
 * skip, from its {@link DecisionFeatures}. Its output is a <em>safety</em> per frame, higher =
 * more likely that the class IoU is at or above the threshold; frames are skipped safest first.
 * The learners are Oracle Labs' Tribuo (Apache 2.0; chosen over Smile, whose licence is the GPL):
 *
 * <ul>
 *   <li>{@link Learner#FOREST}: a random forest of regression trees (Tribuo
 *       {@code RandomForestTrainer} over {@code CARTRegressionTrainer}, mean squared error, 200 trees
 *       of depth at most 6, half the features tried per split) predicting the IoU itself: a rank of
 *       the frames even when the labelled ones hold few or no frames below the threshold.</li>
 *   <li>{@link Learner#LOGISTIC}: logistic regression (Tribuo {@code LinearSGDTrainer}, log loss,
 *       AdaGrad, 100 epochs) on standardised features, predicting P(IoU >= threshold); needs labelled
 *       frames on both sides of the threshold.</li>
 * </ul>
 * Fitting is deterministic for a seed. Tribuo's INFO log lines are silenced.
 */
public final class MetaModel {
    static {
        Logger.getLogger("org.tribuo").setLevel(Level.WARNING);
    }

    public enum Learner {
        FOREST, LOGISTIC;

        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Learner parse(String s) {
            for (Learner l : values()) if (l.cliName().equals(s.toLowerCase(Locale.ROOT))) return l;
            throw new IllegalArgumentException("unknown learner '" + s + "': use forest or logistic");
        }
    }

    public static final int TREES = 200;
    public static final int DEPTH = 6;

    private final Learner learner;
    private final Model<?> model;
    private final String[] names;
    private final double[] mean, scale;

    private MetaModel(Learner learner, Model<?> model, String[] names, double[] mean, double[] scale) {
        this.learner = learner;
        this.model = model;
        this.names = names;
        this.mean = mean;
        this.scale = scale;
    }

    public Learner learner() {
        return learner;
    }

    /**
     * Fits on the frames {@code rows} of {@code table} (every one must have an IoU).
     *
     * @throws SegsaException when the frames cannot support the learner (too few, or, for the
     *                        logistic learner, all on one side of the threshold)
     */
    public static MetaModel fit(Learner learner, DecisionFeatures table, int[] rows, double iouThreshold, long seed) {
        if (rows.length < 4) {
            throw new SegsaException("class " + table.target() + ": " + rows.length + " labelled frame(s) cannot fit a meta-model; "
                    + "label at least 4 (10-20% of the frames is the usual pilot)");
        }
        int d = table.names().size();
        String[] names = table.names().toArray(String[]::new);
        double[] mean = new double[d], scale = new double[d];
        java.util.Arrays.fill(scale, 1);
        if (learner == Learner.LOGISTIC) {
            for (int j = 0; j < d; j++) {
                double s = 0, ss = 0;
                for (int i : rows) s += table.x()[i][j];
                mean[j] = s / rows.length;
                for (int i : rows) ss += (table.x()[i][j] - mean[j]) * (table.x()[i][j] - mean[j]);
                double sd = Math.sqrt(ss / rows.length);
                scale[j] = sd > 1e-12 ? sd : 1;
            }
        }
        int below = 0;
        for (int i : rows) {
            double y = table.iou()[i];
            if (!(y >= 0 && y <= 1)) {
                throw new IllegalArgumentException("frame " + table.frames().get(i) + " has no IoU for class " + table.target());
            }
            if (y < iouThreshold) below++;
        }
        return switch (learner) {
            case FOREST -> {
                var data = new MutableDataset<Regressor>(new SimpleDataSourceProvenance("segsa labelled frames", new RegressionFactory()),
                        new RegressionFactory());
                for (int i : rows) data.add(new ArrayExample<>(new Regressor("iou", table.iou()[i]), names, table.x()[i]));
                var tree = new CARTRegressionTrainer(DEPTH, 2f, 0f, 0.5f, false, new MeanSquaredError(), seed);
                var forest = new RandomForestTrainer<>(tree, new AveragingCombiner(), TREES, seed);
                yield new MetaModel(learner, forest.train(data), names, mean, scale);
            }
            case LOGISTIC -> {
                if (below == 0 || below == rows.length) {
                    throw new SegsaException("class " + table.target() + ": all " + rows.length + " labelled frames are "
                            + (below == 0 ? "at or above" : "below") + " IoU " + iouThreshold
                            + "; logistic regression needs both kinds (use --learner forest, which ranks by predicted IoU)");
                }
                var data = new MutableDataset<Label>(new SimpleDataSourceProvenance("segsa labelled frames", new LabelFactory()),
                        new LabelFactory());
                for (int i : rows) {
                    data.add(new ArrayExample<>(new Label(table.iou()[i] >= iouThreshold ? "ok" : "below"), names,
                            standardise(table.x()[i], mean, scale)));
                }
                var trainer = new LinearSGDTrainer(new LogMulticlass(), new AdaGrad(0.1, 0.1), 100, Integer.MAX_VALUE, 1, seed);
                yield new MetaModel(learner, trainer.train(data), names, mean, scale);
            }
        };
    }

    private static double[] standardise(double[] v, double[] mean, double[] scale) {
        double[] out = new double[v.length];
        for (int j = 0; j < v.length; j++) out[j] = (v[j] - mean[j]) / scale[j];
        return out;
    }

    /** Safety of the frames {@code rows} of {@code table}: predicted IoU (forest) or P(IoU >= threshold) (logistic). */
    public double[] safety(DecisionFeatures table, int[] rows) {
        double[][] x = new double[rows.length][];
        for (int i = 0; i < rows.length; i++) x[i] = table.x()[rows[i]];
        return safety(x);
    }

    @SuppressWarnings("unchecked")
    public double[] safety(double[][] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            if (learner == Learner.FOREST) {
                Model<Regressor> m = (Model<Regressor>) model;
                Example<Regressor> e = new ArrayExample<>(RegressionFactory.UNKNOWN_REGRESSOR, names, x[i]);
                out[i] = m.predict(e).getOutput().getValues()[0];
            } else {
                Model<Label> m = (Model<Label>) model;
                Example<Label> e = new ArrayExample<>(LabelFactory.UNKNOWN_LABEL, names, standardise(x[i], mean, scale));
                Prediction<Label> p = m.predict(e);
                Label ok = p.getOutputScores().get("ok");
                out[i] = ok == null ? 0 : ok.getScore();
            }
        }
        return out;
    }
}
