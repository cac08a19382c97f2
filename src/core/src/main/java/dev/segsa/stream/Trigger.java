package dev.segsa.stream;

import dev.segsa.error.SegsaException;
import dev.segsa.model.FrameOutput;
import dev.segsa.score.FrameResult;

import java.util.List;
import java.util.Locale;

/**
 * One rule of a {@link StreamSelector}: a score read from each {@link FrameResult} and when it
 * fires. With a fixed {@code threshold} it fires when the score is above it; with a NaN threshold
 * the threshold is the selector's budget quantile of this score over the recent frames (the frames
 * scoring in the top share the budget allows fire). A score that does not apply to a frame (a
 * class below {@code minPixels}, an unscored frame, uncertainty not computed) is NaN and never
 * fires. After firing on a kept frame the trigger is silent for {@code cooldownSeconds}.
 *
 * @param name            names the rule in decisions and logs
 * @param score           what is read (see {@link Score})
 * @param className       the class of the class scores (a name of the SA model's classes), else null
 * @param minPixels       class scores apply only when the class has at least this many predicted pixels
 * @param threshold       fixed threshold, or NaN for the budget quantile
 * @param cooldownSeconds after firing on a kept frame, the rule is silent this long (0: never)
 */
public record Trigger(String name, Score score, String className, long minPixels, double threshold, double cooldownSeconds) {

    /** The scores a trigger can read; the config file names them in lower case with dashes. */
    public enum Score {
        /** The paper's image SA: the pixel-weighted mean MDSA of the frame. */
        IMAGE_MDSA("image-mdsa"),
        /**
         * The class-aware frame score: the highest percentile of a class's MDSA among the SA file's
         * fit frames, over the classes covering enough of the frame ({@link FrameResult#classAwareScore()};
         * needs an SA file with a class reference).
         */
        CLASS_AWARE("class-aware"),
        /** The frame's risk, one minus its predicted mIoU ({@link FrameResult#risk()}; needs an engine with a risk model). */
        RISK("risk"),
        /** One class's MDSA percentile among the fit frames ({@link FrameResult#classPercentile(int)}). */
        CLASS_PERCENTILE("class-percentile"),
        /** Class SA: mean MDSA of the class's pixels. */
        CLASS_MDSA_MEAN("class-mdsa-mean"),
        /** 95th percentile of the class's pixels' MDSA. */
        CLASS_MDSA_P95("class-mdsa-p95"),
        /** Share of the class's scored pixels above the engine's SA threshold. */
        CLASS_SHARE_ABOVE("class-share-above"),
        /** Share of all scored pixels above the engine's SA threshold. */
        SHARE_ABOVE("share-above"),
        /** Pixel-weighted mean softmax entropy of the frame (needs the engine's uncertainty). */
        ENTROPY("entropy"),
        /** Pixel-weighted mean margin, 1 - (p1 - p2). */
        MARGIN("margin"),
        /** Pixel-weighted mean least confidence, 1 - p1. */
        LEAST_CONFIDENCE("least-confidence"),
        /** Pixel-weighted mean DeepGini, 1 - sum p^2. */
        DEEPGINI("deepgini");

        private final String key;

        Score(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }

        boolean perClass() {
            return this == CLASS_MDSA_MEAN || this == CLASS_MDSA_P95 || this == CLASS_SHARE_ABOVE || this == CLASS_PERCENTILE;
        }

        public static Score of(String key) {
            for (Score s : values()) if (s.key.equals(key)) return s;
            StringBuilder known = new StringBuilder();
            for (Score s : values()) known.append(known.isEmpty() ? "" : ", ").append(s.key);
            throw new SegsaException("unknown trigger score '" + key + "' (known: " + known + ")");
        }
    }

    public Trigger {
        if (name == null || name.isBlank()) throw new SegsaException("a trigger needs a name");
        if (score == null) throw new SegsaException("trigger '" + name + "' needs a score");
        if (score.perClass() && (className == null || className.isBlank())) {
            throw new SegsaException("trigger '" + name + "': score " + score.key() + " needs a class");
        }
        if (!score.perClass() && className != null) {
            throw new SegsaException("trigger '" + name + "': score " + score.key() + " is not per class; remove \"class\"");
        }
        if (minPixels < 0) throw new SegsaException("trigger '" + name + "': minPixels must be >= 0, got " + minPixels);
        if (Double.isInfinite(threshold)) throw new SegsaException("trigger '" + name + "': threshold must be finite");
        if (!(cooldownSeconds >= 0) || Double.isInfinite(cooldownSeconds)) {
            throw new SegsaException("trigger '" + name + "': cooldownSeconds must be >= 0, got " + cooldownSeconds);
        }
    }

    /** A trigger on the budget quantile of the score, no class, no cooldown. */
    public static Trigger onBudget(String name, Score score) {
        return new Trigger(name, score, null, 0, Double.NaN, 0);
    }

    /** Whether the threshold is the budget quantile (no fixed threshold). */
    public boolean usesBudgetQuantile() {
        return Double.isNaN(threshold);
    }

    /** The class id of {@link #className} among the frame's class names. */
    int classIndex(List<String> classNames) {
        int c = classNames.indexOf(className);
        if (c < 0) {
            throw new SegsaException("trigger '" + name + "': class '" + className + "' is not one of the SA model's classes "
                    + classNames);
        }
        return c;
    }

    /** The trigger's score of a frame; NaN where it does not apply. {@code classIndex} from {@link #classIndex}, or -1. */
    double read(FrameResult r, int classIndex) {
        if (!r.scored()) return Double.NaN;
        return switch (score) {
            case IMAGE_MDSA -> r.imageMdsa();
            case CLASS_AWARE -> r.classAwareScore();
            case RISK -> r.risk();
            case CLASS_PERCENTILE -> r.predictedPixels()[classIndex] < Math.max(1, minPixels) ? Double.NaN : r.classPercentile(classIndex);
            case CLASS_MDSA_MEAN, CLASS_MDSA_P95, CLASS_SHARE_ABOVE -> {
                if (r.predictedPixels()[classIndex] < Math.max(1, minPixels)) yield Double.NaN;
                if (score == Score.CLASS_MDSA_MEAN) yield r.mdsaMean()[classIndex];
                if (score == Score.CLASS_MDSA_P95) yield r.mdsaP95()[classIndex];
                yield r.shareAboveThreshold() == null ? Double.NaN : r.shareAboveThreshold()[classIndex];
            }
            case SHARE_ABOVE -> {
                double[] share = r.shareAboveThreshold();
                if (share == null) yield Double.NaN;
                double sum = 0;
                long n = 0;
                for (int c = 0; c < share.length; c++) {
                    if (Double.isNaN(share[c])) continue;
                    sum += share[c] * r.predictedPixels()[c];
                    n += r.predictedPixels()[c];
                }
                yield n == 0 ? Double.NaN : sum / n;
            }
            case ENTROPY, MARGIN, LEAST_CONFIDENCE, DEEPGINI -> {
                double[][] u = r.uncertainty();
                if (u == null) yield Double.NaN;
                double[] m = u[FrameOutput.SoftmaxUncertainty.NAMES.indexOf(score.key().replace('-', '_'))];
                double sum = 0;
                long n = 0;
                for (int c = 0; c < m.length; c++) {
                    if (Double.isNaN(m[c])) continue;
                    sum += m[c] * r.predictedPixels()[c];
                    n += r.predictedPixels()[c];
                }
                yield n == 0 ? Double.NaN : sum / n;
            }
        };
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s (%s%s, %s)", name, score.key(), className == null ? "" : " of " + className,
                usesBudgetQuantile() ? "budget quantile" : "> " + threshold);
    }
}
