package dev.segsa.evaluate;

import org.apache.commons.math3.distribution.BetaDistribution;

/**
 * One-sided Clopper-Pearson (exact binomial) upper confidence bound of a rate: with x events in
 * n trials, the bound u such that P(X &lt;= x | n, u) = 1 - confidence, i.e. the
 * {@code confidence} quantile of Beta(x + 1, n - x); 1 when x = n. Quantiles from commons-math3.
 */
public final class ClopperPearson {
    private ClopperPearson() {}

    public static double upperBound(int events, int trials, double confidence) {
        if (trials < 1) throw new IllegalArgumentException("need at least one trial, got " + trials);
        if (events < 0 || events > trials) throw new IllegalArgumentException("events " + events + " outside 0.." + trials);
        if (!(confidence > 0 && confidence < 1)) throw new IllegalArgumentException("confidence " + confidence + " outside (0, 1)");
        if (events == trials) return 1.0;
        return new BetaDistribution(null, events + 1, trials - events, 1e-14).inverseCumulativeProbability(confidence);
    }
}
