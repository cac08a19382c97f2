package dev.segsa.cli;

import dev.segsa.error.SegsaException;
import dev.segsa.scores.ClassGroups;
import dev.segsa.features.FrameReader;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.model.ModelFiles;
import dev.segsa.model.SegmentationModel;
import dev.segsa.io.Progress;
import dev.segsa.scores.ScoresCsv;
import dev.segsa.kernel.Backend;
import dev.segsa.kernel.Backends;
import dev.segsa.score.FrameScorer;
import dev.segsa.scores.ScoringJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Scores every pixel of every frame (MDSA, optionally LSA) against the SA model of its predicted class, "
                + "and writes per-image class SA (and IoU with --labels) to a CSV. "
                + "Normalisation, resize, upsample mode, class names and ignore label come from the SA model file.",
                "",
                "Example: segsa score --model model.pt --sa model.sa --images val/ --labels valannot/ --out scores.csv"})
final class ScoreCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "M.pt", description = "The TorchScript model the SA model was fitted with.")
    Path model;

    @Option(names = "--sa", required = true, paramLabel = "FILE", description = "SA model file written by segsa fit.")
    Path saFile;

    @Option(names = "--images", required = true, paramLabel = "DIR", description = "Frames to score.")
    Path images;

    @Option(names = "--out", required = true, paramLabel = "scores.csv", description = "CSV to write: image,class,pixels,mdsa,lsa,iou (then the uncertainty columns with --uncertainty).")
    Path out;

    @Option(names = "--labels", paramLabel = "DIR", description = "Label masks: adds per-class IoU.")
    Path labels;

    @Option(names = "--lsa", description = "Also compute LSA (Gaussian KDE of the fitted references; slow on the reference backend).")
    boolean lsa;

    @Option(names = "--uncertainty",
            description = "Also write the softmax uncertainty baselines of the same forward pass, aggregated per class like SA "
                    + "(mean over the pixels predicted as the class; group rows z-scored like SA), as the columns "
                    + "entropy,margin,least_confidence,deepgini after iou. Higher = more uncertain for all four: entropy in "
                    + "nats, margin = 1 - (top1 - top2 probability), least_confidence = 1 - top1, deepgini = 1 - sum p^2.")
    boolean uncertainty;

    @Option(names = "--groups", paramLabel = "SPEC",
            description = "Class groups, e.g. \"lanes=1,2,3;markers=4,5,6,7,8\" (ids or class names): adds class-group SA rows.")
    String groups;

    @Option(names = "--backend", paramLabel = "NAME", description = "SA kernels: auto (default), reference, native-cpu, cuda.")
    String backend;

    @Option(names = "--allow-model-mismatch",
            description = "Score although --model is not the file the SA model was fitted with (same shapes required).")
    boolean allowModelMismatch;

    @Override
    public Integer call() {
        SaModel sa = SaModelFile.read(saFile);
        String sha = ModelFiles.sha256(model);
        if (!sha.equals(sa.settings().modelSha256()) && !allowModelMismatch) {
            throw new SegsaException(saFile + ": fitted with model " + sa.settings().modelFile() + " (sha256 "
                    + sa.settings().modelSha256().substring(0, 12) + "...), but --model " + model + " has sha256 "
                    + sha.substring(0, 12) + "...; refit, or pass --allow-model-mismatch");
        }
        ClassGroups g = ClassGroups.parse(groups, sa.settings().classNames());
        int frames = FrameReader.listFrames(images).size();
        List<String> notes = new ArrayList<>();
        try (SegmentationModel m = SegmentationModel.load(model, sa.settings().upsample());
             Backend b = Backends.select(backend)) {
            FrameScorer scorer = new FrameScorer(m, sa, b, lsa, uncertainty, notes);
            for (String n : notes) System.err.println("segsa score: note: " + n);
            Progress progress = new Progress("score", frames);
            List<String> warnings = new ArrayList<>();
            ScoringJob job = new ScoringJob(scorer, sa, g);
            List<ScoresCsv.Row> rows = job.run(images, labels, progress, warnings);
            for (String w : warnings) System.err.println("segsa score: warning: " + w);
            ScoresCsv.write(out, rows, uncertainty);
            System.out.println(ScoreSummary.table(rows, sa.settings().classNames(), g));
            System.out.println(ScoreSummary.stages(job.decodeSeconds(), scorer.stageSeconds()));
            System.out.printf(Locale.ROOT, "wrote %s (%d frames, %d rows, %.1f s, backend %s)%n", out, frames, rows.size(),
                    progress.elapsedSeconds(), b.name());
        }
        return 0;
    }
}
