package dev.segsa.evaluate;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Ranking statistics of a score for a binary outcome (higher score = predicted positive): AUROC
 * by Mann-Whitney with ties averaged, average precision (AUPR), and mid-ranks. Scores must be
 * finite.
 */
public final class AucStatistics {
    private AucStatistics() {}

    /** 1-based ranks in ascending order, ties given their mean rank ({@link SpearmanCorrelation#ranks}). */
    public static double[] ranks(double[] v) {
        return SpearmanCorrelation.ranks(v);
    }

    /** AUROC: the probability that a positive scores above a negative (ties count one half); NaN without both kinds. */
    public static double auroc(double[] score, boolean[] positive) {
        double[] r = ranks(score);
        long pos = 0;
        double rankSum = 0;
        for (int i = 0; i < score.length; i++) {
            if (positive[i]) {
                pos++;
                rankSum += r[i];
            }
        }
        long neg = score.length - pos;
        if (pos == 0 || neg == 0) return Double.NaN;
        return (rankSum - pos * (pos + 1) / 2.0) / ((double) pos * neg);
    }

    /**
     * Average precision: the mean over positives of the precision at their rank, frames ordered by
     * descending score; tied scores form one step (each tied positive gets the precision at the
     * end of the tie), as scikit-learn's average_precision_score. NaN without a positive.
     */
    public static double averagePrecision(double[] score, boolean[] positive) {
        Integer[] order = new Integer[score.length];
        for (int i = 0; i < score.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(score[b], score[a]));
        long totalPos = 0;
        for (boolean p : positive) if (p) totalPos++;
        if (totalPos == 0) return Double.NaN;
        double ap = 0, prevRecall = 0;
        long tp = 0;
        for (int i = 0; i < order.length; ) {
            int j = i;
            while (j + 1 < order.length && score[order[j + 1]] == score[order[i]]) j++;
            for (int k = i; k <= j; k++) if (positive[order[k]]) tp++;
            double recall = (double) tp / totalPos, precision = (double) tp / (j + 1);
            ap += (recall - prevRecall) * precision;
            prevRecall = recall;
            i = j + 1;
        }
        return ap;
    }
}
