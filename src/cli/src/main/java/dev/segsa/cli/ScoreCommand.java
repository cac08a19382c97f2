package dev.segsa.cli;

import dev.segsa.error.SegsaException;

import dev.segsa.model.ModelMetadata;

import dev.segsa.io.OutputFiles;

import dev.segsa.Segsa;
import dev.segsa.video.VideoSource;
import dev.segsa.score.FrameResult;
import dev.segsa.score.StageLatency;

import dev.segsa.scores.ClassGroups;
import dev.segsa.features.FrameReader;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.io.Progress;
import dev.segsa.scores.ScoresCsv;
import dev.segsa.scores.ScoringJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Scores every pixel of every frame (MDSA, optionally LSA) against the SA model of its predicted class, "
                + "and writes per-image class SA (and IoU with --labels) to a CSV. "
                + "Normalisation, resize, upsample mode, class names and ignore label come from the SA model file.",
                "",
                "With --video the frames of a video file (or of every video in a folder) are scored instead, and the image "
                        + "column is replaced by video,frame,pts (file name, index of the frame in the stream, presentation "
                        + "time in seconds).",
                "",
                "Example: segsa score --model model.pt --sa model.sa --images val/ --labels valannot/ --out scores.csv",
                "         segsa score --model model.pt --sa model.sa --video drive.mp4 --every 5 --out scores.csv"})
final class ScoreCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "M.pt", description = "The TorchScript model the SA model was fitted with.")
    Path model;

    @Option(names = "--sa", required = true, paramLabel = "FILE", description = "SA model file written by segsa fit.")
    Path saFile;

    @Option(names = "--images", paramLabel = "DIR", description = "Frames to score (PNG, JPEG, BMP).")
    Path images;

    @Option(names = "--video", paramLabel = "FILE|DIR",
            description = "A video file (any container and codec FFmpeg's LGPL build decodes), or a folder of them (" + VideoFiles.EXTENSIONS_TEXT + "), instead of --images.")
    Path video;

    @Option(names = "--every", paramLabel = "K", defaultValue = "1", description = "With --video: score every K-th frame (default ${DEFAULT-VALUE}).")
    int every;

    @Option(names = "--from", paramLabel = "S", defaultValue = "0", description = "With --video: first presentation time scored, in seconds.")
    double fromSeconds;

    @Option(names = "--to", paramLabel = "S", description = "With --video: last presentation time scored, in seconds (default: the end).")
    Double toSeconds;

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

    @Option(names = "--decode-ahead", paramLabel = "N", defaultValue = "2",
            description = "Frames decoded ahead on a background thread while the current one is scored (default ${DEFAULT-VALUE}; "
                    + "0: one after the other; the output is the same).")
    int decodeAhead;

    @Option(names = "--lsa-budget-ms", paramLabel = "MS", defaultValue = "0",
            description = "Per-frame time budget with --lsa: a frame whose LSA would go past it (predicted from earlier frames) "
                    + "gets MDSA only, and its lsa cells are empty (default ${DEFAULT-VALUE}: no budget).")
    double lsaBudgetMs;

    @picocli.CommandLine.Mixin
    RunOptions run;

    @Override
    public Integer call() {
        if ((images == null) == (video == null)) throw new IllegalArgumentException("give either --images DIR or --video FILE|DIR");
        if (video != null && labels != null) throw new IllegalArgumentException("--labels is for --images (video frames have no masks)");
        VideoSource.Options videoOptions = video == null ? null
                : new VideoSource.Options(every, fromSeconds, toSeconds == null ? Double.POSITIVE_INFINITY : toSeconds, decodeAhead);
        OutputFiles.protect(model);
        OutputFiles.protect(ModelMetadata.sidecarOf(model));
        OutputFiles.protect(saFile);
        OutputFiles.protect(images);
        OutputFiles.protect(video);
        OutputFiles.protect(labels);
        OutputFiles.checkWritableFile(out, "--out");
        List<Path> videos = video == null ? List.of() : VideoFiles.list(video);
        SaModel sa = SaModelFile.read(saFile);
        ClassGroups g = ClassGroups.parse(groups, sa.settings().classNames());
        int frames = images != null ? FrameReader.listFrames(images).size() : VideoFiles.estimatedFrames(videos, videoOptions);
        Segsa.Builder builder = Segsa.builder(model, sa).backend(backend).lsa(lsa).uncertainty(uncertainty)
                .allowModelMismatch(allowModelMismatch).trustModel(run.trustModel).optimizeModel(run.optimizeModel).threads(run.threads).lsaBudget(java.time.Duration.ofNanos((long) (lsaBudgetMs * 1e6)));
        try (Segsa engine = builder.saSource(saFile).open()) {
            for (String n : engine.notes()) System.err.println("segsa score: note: " + n);
            Progress progress = new Progress("score", frames);
            List<String> warnings = new ArrayList<>();
            ScoringJob job = new ScoringJob(sa, g);
            int[] skippedLsa = {0};
            StageLatency read = null;
            List<Segsa.SkippedFrame> skipped = new ArrayList<>();
            Map<String, ScoresCsv.VideoFrameRef> positions = new HashMap<>();
            if (images != null) {
                Segsa.FolderRun folder = engine.scoreFolder(images, labels, decodeAhead, run.skipBadFrames, (f, r) -> {
                    int[] lab = f.labels() == null ? null : engine.labelsAtOutputSize(f.labels(), f.image().getWidth(), f.image().getHeight());
                    job.add(r, lab, f.labelFile(), warnings);
                    if (r.lsa() == FrameResult.LsaState.SKIPPED_FOR_BUDGET) skippedLsa[0]++;
                    progress.step();
                });
                read = folder.read();
                skipped.addAll(folder.skipped());
            } else {
                for (Path v : videos) {
                    skipped.addAll(engine.scoreVideo(v, videoOptions, run.skipBadFrames, (f, r) -> {
                        positions.put(r.frame(), new ScoresCsv.VideoFrameRef(v.getFileName().toString(), f.index(), f.seconds()));
                        job.add(r, null, null, warnings);
                        if (r.lsa() == FrameResult.LsaState.SKIPPED_FOR_BUDGET) skippedLsa[0]++;
                        progress.step();
                    }));
                }
                frames = job.frames();
            }
            List<ScoresCsv.Row> rows = job.rows();
            for (String w : warnings) System.err.println("segsa score: warning: " + w);
            if (engine.optimizationReport() != null) System.err.println("segsa score: note: " + engine.optimizationReport());
            Object source = images != null ? images : video;
            if (job.scoredFrames() == 0) {
                throw new SegsaException(source + ": no frame could be scored (" + (job.frames() == 0 ? "no frame was read"
                        : "every frame had NaN/Inf features or logits") + "); " + out + " not written");
            }
            if (skippedLsa[0] > 0) {
                System.err.printf(Locale.ROOT, "segsa score: note: %d of %d frames got MDSA only (LSA over the %.1f ms budget)%n",
                        skippedLsa[0], frames, lsaBudgetMs);
            }
            if (images != null) ScoresCsv.write(out, rows, uncertainty);
            else ScoresCsv.writeVideo(out, rows, uncertainty, positions);
            System.out.println(ScoreSummary.table(rows, sa.settings().classNames(), g));
            StageLatency latency = engine.latency();
            if (read != null) latency.add(read);
            System.out.println(ScoreSummary.stages(latency, decodeAhead > 0));
            System.out.printf(Locale.ROOT, "wrote %s (%d frames, %d rows, %.1f s, backend %s)%n", out, frames, rows.size(),
                    progress.elapsedSeconds(), engine.backend());
            return SkippedFrames.report("score", skipped, frames, run.allowSkipped);
        }
    }
}
