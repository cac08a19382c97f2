package dev.segsa.cli;

import dev.segsa.error.SegsaException;
import dev.segsa.evaluate.RiskModelFit;
import dev.segsa.evaluate.SegmentStudy;
import dev.segsa.io.OutputFiles;
import dev.segsa.risk.RiskModel;
import dev.segsa.risk.RiskModelFile;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.scores.SegmentTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "fit-risk", mixinStandardHelpOptions = true,
        description = {"Fits the frame-risk model in the lab from labelled segments (segsa score --labels --segments): a segment "
                + "meta-classifier (IoU_adj = 0, L1-logistic) and meta-regressor (IoU_adj: gradient-boosted trees (XGBoost), and the linear baseline), "
                + "from MetaSeg's features with MDSA as one more heat map. Prints MetaSeg's table in grouped cross-validation "
                + "(softmax-only features against features with MDSA, same folds), then fits on every segment and writes the model "
                + "that segsa score --risk and watch --risk load.",
                "",
                "Example: segsa score --model m.pt --sa m.sa --images train/ --labels trainannot/ --segments train-segments.csv --out s.csv",
                "         segsa fit-risk --segments train-segments.csv --sa m.sa --out m.risk"})
final class FitRiskCommand implements Callable<Integer> {
    @Option(names = "--segments", required = true, paramLabel = "FILE", description = "Labelled segments written by segsa score --labels --segments.")
    Path segments;

    @Option(names = "--sa", required = true, paramLabel = "FILE", description = "The SA model the segments were scored with.")
    Path saFile;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Risk model file to write.")
    Path out;

    @Option(names = "--softmax-only", description = "Leave the MDSA features out of the model (for comparison; the default uses them).")
    boolean softmaxOnly;

    @Option(names = "--without-probabilities",
            description = {"Leave the mean class probabilities out of the model: the engine then skips writing the class "
                    + "probability planes a frame (cheaper; the cross-validation table shows what it costs in accuracy)."})
    boolean withoutProbabilities;

    @Option(names = "--trees", paramLabel = "N", defaultValue = "100", description = "Boosting rounds (default ${DEFAULT-VALUE}; 0: the linear regressor only).")
    int trees;

    @Option(names = "--depth", paramLabel = "D", defaultValue = "6", description = "Depth of the trees (default ${DEFAULT-VALUE}).")
    int depth;

    @Option(names = "--cv-folds", paramLabel = "K", defaultValue = "5",
            description = "Folds of the grouped cross-validation table (default ${DEFAULT-VALUE}; 0: no table).")
    int folds;

    @Option(names = "--class-weights", paramLabel = "NAME=W,...",
            description = "Weights of the classes in the expected failed area (default 1 each), e.g. Pedestrian=3,Sky=0.")
    String classWeights;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Seed of the trees' subsampling and of the folds (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        OutputFiles.protect(segments);
        OutputFiles.protect(saFile);
        OutputFiles.checkWritableFile(out, "--out");
        if (folds < 0 || folds == 1 || folds > 50) throw new IllegalArgumentException("--cv-folds must be 0 or 2..50, got " + folds);
        RiskModelFit.Settings settings = new RiskModelFit.Settings(trees, depth, 1.0, seed);
        SaModel sa = SaModelFile.read(saFile);
        SegmentTable table = SegmentTable.read(segments);
        if (!table.classNames().equals(sa.settings().classNames())) {
            throw new SegsaException(segments + ": classes " + table.classNames() + " are not the SA model's " + sa.settings().classNames());
        }
        int[] idx = RiskModelFit.trainable(table);
        if (idx.length == 0) {
            throw new SegsaException(segments + ": no segment has an iou_adj (score with --labels) and an interior; nothing to fit");
        }
        if (folds > 0) {
            long t0 = System.nanoTime();
            SegmentStudy.Result cv = SegmentStudy.run(table, folds, 0, 1, settings);
            System.out.print(SegmentStudy.markdown(cv));
            System.out.printf(Locale.ROOT, "(cross-validation %.1f s)%n", (System.nanoTime() - t0) / 1e9);
        }
        double[] weights = FitCommand.weights(sa.settings().classNames(), classWeights);
        RiskModel m = RiskModelFit.fit(table, idx, !softmaxOnly, !withoutProbabilities, settings, sa.settings().modelSha256(),
                sa.fingerprint(), weights);
        RiskModelFile.write(m, out);
        System.out.printf(Locale.ROOT, "wrote %s (%d segments of %d frames, %d inputs, %d trees, %s)%n", out, idx.length,
                new java.util.HashSet<>(table.images()).size(), m.inputs(), m.trees().size(), (softmaxOnly ? "softmax only" : "with MDSA") + (withoutProbabilities ? ", no class probabilities" : ""));
        return 0;
    }
}
