package dev.segsa.cli;

import dev.segsa.videoscore.SegsaVideo;
import dev.segsa.error.SegsaException;

import dev.segsa.model.ModelMetadata;

import dev.segsa.io.OutputFiles;

import dev.segsa.Segsa;
import dev.segsa.mcap.McapSource;
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

import java.nio.file.Files;
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
    @Option(names = "--model", paramLabel = "M.pt", description = "The TorchScript model the SA model was fitted with (required but with --list).")
    Path model;

    @Option(names = "--sa", paramLabel = "FILE", description = "SA model file written by segsa fit (required but with --list).")
    Path saFile;

    @Option(names = "--mcap", paramLabel = "FILE", description = "A ROS 2 / Foxglove MCAP log instead of --images: the camera "
            + "messages of one topic (sensor_msgs/msg/Image or CompressedImage in CDR, foxglove.RawImage or CompressedImage in JSON), "
            + "with their log times; rows as with --video (video = file:topic, frame = index on the topic, pts = log time in s).")
    Path mcap;

    @Option(names = "--mcap-copy-input", description = "With --mcap-out: also copy the scored camera messages (as logged, same "
            + "topic, schema and log time) into it, so that one file opens in Foxglove with the camera and its scores.")
    boolean mcapCopyInput;

    @Option(names = "--topic", paramLabel = "NAME", description = "With --mcap: the camera topic (default: the log's only image topic).")
    String topic;

    @Option(names = "--list", description = "With --mcap: print the log's channels (topic, schema, encoding, messages, resolution) and stop.")
    boolean list;

    @Option(names = "--mcap-out", paramLabel = "FILE", description = "With --mcap: also write an MCAP file with, at each scored "
            + "frame's log time, /segsa/scores (JSON: image MDSA and per class pixels, mean / p95 / max MDSA, LSA and uncertainty "
            + "when asked; Foxglove's Plot panel graphs them) and /segsa/heatmap (foxglove.RawImage, rgb8, the MDSA map colour-mapped).")
    Path mcapOut;

    @Option(names = "--mcap-heatmap", paramLabel = "raw|png", defaultValue = "raw", description = "With --mcap-out: the heatmap as a "
            + "foxglove.RawImage (raw, default) or a foxglove.CompressedImage PNG (png: 45%% of the raw message bytes on CamVid; about the same file size, since the log's chunks are compressed either way).")
    String mcapHeatmap;

    /** SHA-256 of a file, hex. */
    static String sha256(Path file) {
        try {
            return dev.segsa.io.FileDigest.sha256(file);
        } catch (java.io.IOException e) {
            throw new SegsaException(file + ": cannot read for its hash: " + e.getMessage(), e);
        }
    }

    @Option(names = "--images", paramLabel = "DIR", description = "Frames to score (PNG, JPEG, BMP).")
    Path images;

    @Option(names = "--video", paramLabel = "FILE|DIR|URL",
            description = "A video file (any container and codec FFmpeg's LGPL build decodes), a folder of them (" + VideoFiles.EXTENSIONS_TEXT
                    + "), or a stream FFmpeg opens: a URL (rtsp://, http://, ...), a V4L2 camera (/dev/video0) or - for standard "
                    + "input (MPEG-TS or Matroska), instead of --images.")
    String videoArg;

    /** --video as a file or folder; null for a stream (URL, camera, standard input: {@link #stream}). */
    private Path video;
    private String stream;

    @Option(names = "--every", paramLabel = "K", defaultValue = "1", description = "With --video: score every K-th frame (default ${DEFAULT-VALUE}).")
    int every;

    @Option(names = "--from", paramLabel = "S", converter = FiniteNumber.NonNegative.class, defaultValue = "0", description = "With --video: first presentation time scored, in seconds; with --mcap: seconds of log time from the log's first message.")
    double fromSeconds;

    @Option(names = "--to", paramLabel = "S", converter = FiniteNumber.NonNegative.class, description = "With --video: last presentation time scored, in seconds; with --mcap: seconds of log time from the log's first message (default: the end).")
    Double toSeconds;

    @Option(names = "--out", paramLabel = "scores.csv", description = "CSV to write: image,class,pixels,mdsa,lsa,iou (then the uncertainty columns with --uncertainty).")
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

    @Option(names = "--lsa-budget-ms", paramLabel = "MS", converter = FiniteNumber.NonNegative.class, defaultValue = "0",
            description = "Per-frame time budget with --lsa: a frame whose LSA would go past it (predicted from earlier frames) "
                    + "gets MDSA only, and its lsa cells are empty (default ${DEFAULT-VALUE}: no budget).")
    double lsaBudgetMs;

    @Option(names = "--segments", paramLabel = "FILE",
            description = {"Also write one row per predicted segment (connected component of a class, 8-neighbourhood): sizes, "
                    + "the mean MDSA, entropy and margin over the segment, its interior and its boundary, the mean probability of "
                    + "every class, and with --labels MetaSeg's adjusted IoU (iou_adj): the input of segsa fit-risk."})
    Path segmentsOut;

    @Option(names = "--risk", paramLabel = "FILE",
            description = {"A risk model (segsa fit-risk): adds the risk column (per class one minus its predicted IoU; a frame's "
                    + "risk, the mean over its classes, is one minus its predicted mIoU), the default frame ranking of select, "
                    + "timeline and evaluate."})
    Path riskFile;

    @picocli.CommandLine.Mixin
    RunOptions run;

    /** The risk model of --risk, checked against the SA model (before any frame is scored). */
    private dev.segsa.risk.RiskModel riskFor(SaModel sa) {
        dev.segsa.risk.RiskModel risk = dev.segsa.risk.RiskModelFile.read(riskFile);
        risk.requireFor(sa, riskFile);
        return risk;
    }

    /** The frame's segment rows, with their IoU_adj when the frame has labels. */
    private static void addSegments(Segsa engine, FrameResult r, int[] labels, List<String> images, List<double[]> rows) {
        if (r.segments() == null) return; // an unscored frame (non-finite features or logits) has none
        double[] iou = labels == null ? null : engine.segmentIouAdj(labels);
        int f = r.segments().columns();
        for (int s = 0; s < r.segments().count(); s++) {
            double[] row = new double[f];
            for (int j = 0; j < f; j++) row[j] = r.segments().value(s, j);
            if (iou != null) row[f - 1] = iou[s];
            images.add(r.frame());
            rows.add(row);
        }
    }

    @Override
    public Integer call() {
        if (videoArg != null) {
            boolean isStream = videoArg.equals("-") || videoArg.equals("/dev/stdin") || videoArg.contains("://")
                    || videoArg.startsWith("/dev/video");
            if (isStream) stream = videoArg;
            else video = Path.of(videoArg);
        }
        if (list) {
            if (mcap == null) throw new IllegalArgumentException("--list is for --mcap FILE");
            System.out.println(McapOutput.listTable(mcap));
            return 0;
        }
        if (model == null || saFile == null || out == null) {
            throw new IllegalArgumentException("--model, --sa and --out are required (all but --mcap with --list)");
        }
        if (topic != null && mcap == null) throw new IllegalArgumentException("--topic is for --mcap");
        if (mcapOut != null && mcap == null) throw new IllegalArgumentException("--mcap-out is for --mcap");
        if (!mcapHeatmap.equals("raw") && !mcapHeatmap.equals("png")) {
            throw new IllegalArgumentException("--mcap-heatmap must be raw or png, got " + mcapHeatmap);
        }
        if (mcapCopyInput && mcapOut == null) throw new IllegalArgumentException("--mcap-copy-input goes with --mcap-out");
        if (mcap != null) return scoreMcap();
        if ((images == null) == (videoArg == null)) throw new IllegalArgumentException("give either --images DIR, --video FILE|DIR|URL or --mcap FILE");
        if (images != null && (every != 1 || fromSeconds != 0 || toSeconds != null)) {
            throw new IllegalArgumentException("--every, --from and --to apply to --video and --mcap, not to --images (a folder of "
                    + "frames has no times): remove them");
        }
        if (videoArg != null && labels != null) throw new IllegalArgumentException("--labels is for --images (video frames have no masks)");
        VideoSource.Options videoOptions = videoArg == null ? null
                : new VideoSource.Options(every, fromSeconds, toSeconds == null ? Double.POSITIVE_INFINITY : toSeconds, decodeAhead);
        OutputFiles.protect(model);
        OutputFiles.protect(ModelMetadata.sidecarOf(model));
        OutputFiles.protect(saFile);
        OutputFiles.protect(images);
        OutputFiles.protect(video);
        OutputFiles.protectSource(videoArg);  // standard input, /dev/fd/N and file: URLs by what they are
        OutputFiles.protect(labels);
        OutputFiles.protect(riskFile);
        OutputFiles.checkWritableFile(out, "--out");
        if (segmentsOut != null) {
            OutputFiles.checkWritableFile(segmentsOut, "--segments");
            if (segmentsOut.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
                throw new IllegalArgumentException("--segments and --out name the same file " + out);
            }
        }
        dev.segsa.risk.RiskModel risk = null;
        List<Path> videos = video == null ? List.of() : VideoFiles.list(video);
        if (images != null && labels != null && !run.skipBadFrames) {
            // every frame paired with its mask before the first frame is scored, not a minute into the run
            if (!Files.isDirectory(labels)) throw new SegsaException(labels + ": labels directory not found");
            List<String> unpaired = new ArrayList<>();
            int total = 0;
            for (Path f : FrameReader.listFrames(images)) {
                total++;
                try {
                    FrameReader.labelFor(f, labels);
                } catch (SegsaException e) {
                    unpaired.add(f.getFileName().toString());
                }
            }
            if (!unpaired.isEmpty()) {
                throw new SegsaException(labels + ": " + unpaired.size() + " of " + total + " frames have no mask (same name, or .png): "
                        + String.join(", ", unpaired.subList(0, Math.min(10, unpaired.size()))) + (unpaired.size() > 10 ? ", ..." : "")
                        + "; nothing scored (--skip-bad-frames scores the others)");
            }
        }
        SaModel sa = SaModelFile.read(saFile);
        if (riskFile != null) risk = riskFor(sa);
        ClassGroups g = ClassGroups.parse(groups, sa.settings().classNames());
        int frames = images != null ? FrameReader.listFrames(images).size() : VideoFiles.estimatedFrames(videos, videoOptions, run.skipBadFrames);
        Segsa.Builder builder = Segsa.builder(model, sa).backend(backend).lsa(lsa).uncertainty(uncertainty)
                .allowModelMismatch(allowModelMismatch).trustModel(run.trustModel).optimizeModel(run.optimizeModel).threads(run.threads).lsaBudget(java.time.Duration.ofNanos((long) (lsaBudgetMs * 1e6)))
                .segments(segmentsOut != null).riskModel(risk);
        try (Segsa engine = builder.saSource(saFile).open()) {
            for (String n : engine.notes()) System.err.println("segsa score: note: " + n);
            Progress progress = new Progress("score", frames);
            List<String> warnings = new ArrayList<>();
            ScoringJob job = new ScoringJob(sa, g);
            int[] skippedLsa = {0};
            StageLatency read = null;
            List<Segsa.SkippedFrame> skipped = new ArrayList<>();
            Map<String, ScoresCsv.VideoFrameRef> positions = new HashMap<>();
            List<String> segmentImages = new ArrayList<>();
            List<double[]> segmentRows = new ArrayList<>();
            if (images != null) {
                Segsa.FolderRun folder = engine.scoreFolder(images, labels, decodeAhead, run.skipBadFrames, (f, r) -> {
                    int[] lab = f.labels() == null ? null : engine.labelsAtOutputSize(f.labels(), f.image().getWidth(), f.image().getHeight());
                    job.add(r, lab, f.labelFile(), warnings);
                    if (segmentsOut != null) addSegments(engine, r, lab, segmentImages, segmentRows);
                    if (r.lsa() == FrameResult.LsaState.SKIPPED_FOR_BUDGET) skippedLsa[0]++;
                    progress.step();
                });
                read = folder.read();
                skipped.addAll(folder.skipped());
            } else {
                SegsaVideo.VideoSink sink = (f, r) -> {
                    positions.put(r.frame(), new ScoresCsv.VideoFrameRef(f.video().getFileName().toString(), f.index(), f.seconds(),
                            f.ptsMicros() * 1000));
                    job.add(r, null, null, warnings);
                    if (segmentsOut != null) addSegments(engine, r, null, segmentImages, segmentRows);
                    if (r.lsa() == FrameResult.LsaState.SKIPPED_FOR_BUDGET) skippedLsa[0]++;
                    progress.step();
                };
                for (Path v : videos) skipped.addAll(SegsaVideo.scoreVideo(engine, v, videoOptions, run.skipBadFrames, sink));
                if (stream != null) skipped.addAll(SegsaVideo.scoreVideo(engine, stream, videoOptions, run.skipBadFrames, sink));
                frames = job.frames();
            }
            List<ScoresCsv.Row> rows = job.rows();
            for (String w : warnings) System.err.println("segsa score: warning: " + w);
            if (engine.optimizationReport() != null) System.err.println("segsa score: note: " + engine.optimizationReport());
            Object source = images != null ? images : video != null ? video : stream;
            if (job.scoredFrames() == 0) {
                // with --skip-bad-frames, what was skipped is why nothing was read: say the first reason
                String why = job.frames() > 0 ? "every frame had NaN/Inf features or logits"
                        : skipped.isEmpty() ? "no frame was read"
                        : "no frame was read; " + skipped.getFirst().frame() + ": " + skipped.getFirst().reason()
                          + (skipped.size() > 1 ? " (and " + (skipped.size() - 1) + " more skipped)" : "");
                throw new SegsaException(source + ": no frame could be scored (" + why + "); " + out + " not written");
            }
            if (skippedLsa[0] > 0) {
                System.err.printf(Locale.ROOT, "segsa score: note: %d of %d frames got MDSA only (LSA over the %.1f ms budget)%n",
                        skippedLsa[0], frames, lsaBudgetMs);
            }
            // the scores and the segments are put in place together or not at all
            try (dev.segsa.io.OutputTransaction txn = new dev.segsa.io.OutputTransaction()) {
                if (images != null) ScoresCsv.write(txn.stage(out), rows, uncertainty);
                else ScoresCsv.writeVideo(txn.stage(out), rows, uncertainty, positions);
                if (segmentsOut != null) {
                    new dev.segsa.scores.SegmentTable(sa.settings().classNames(), segmentImages, segmentRows).write(txn.stage(segmentsOut));
                }
                txn.commit();
            }
            if (segmentsOut != null) System.out.printf(Locale.ROOT, "wrote %s (%d segments)%n", segmentsOut, segmentRows.size());
            System.out.println(ScoreSummary.table(rows, sa.settings().classNames(), g));
            StageLatency latency = engine.latency();
            if (read != null) latency.add(read);
            System.out.println(ScoreSummary.stages(latency, decodeAhead > 0));
            System.out.printf(Locale.ROOT, "wrote %s (%d frames, %d rows, %.1f s, backend %s)%n", out, frames, rows.size(),
                    progress.elapsedSeconds(), engine.backend());
            return SkippedFrames.report("score", skipped, frames, run.allowSkipped);
        }
    }

    /** --mcap: the frames of one topic, scored in log order; rows as for a video; optionally an MCAP of the scores. */
    private Integer scoreMcap() {
        if (images != null || videoArg != null) throw new IllegalArgumentException("give one of --images, --video and --mcap");
        if (labels != null) throw new IllegalArgumentException("--labels is for --images");
        if (every != 1) throw new IllegalArgumentException("--every is for --video");
        OutputFiles.protect(model);
        OutputFiles.protect(ModelMetadata.sidecarOf(model));
        OutputFiles.protect(saFile);
        OutputFiles.protect(mcap);
        OutputFiles.protect(riskFile);
        OutputFiles.checkWritableFile(out, "--out");
        if (segmentsOut != null) OutputFiles.checkWritableFile(segmentsOut, "--segments");
        if (mcapOut != null) {
            OutputFiles.checkWritableFile(mcapOut, "--mcap-out");
            if (mcapOut.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
                throw new IllegalArgumentException("--out and --mcap-out are the same file: " + out);
            }
        }
        SaModel sa = SaModelFile.read(saFile);
        dev.segsa.risk.RiskModel risk = riskFile == null ? null : riskFor(sa);
        ClassGroups g = ClassGroups.parse(groups, sa.settings().classNames());
        Segsa.Builder builder = Segsa.builder(model, sa).backend(backend).lsa(lsa).uncertainty(uncertainty)
                .allowModelMismatch(allowModelMismatch).trustModel(run.trustModel).optimizeModel(run.optimizeModel).threads(run.threads)
                .segments(segmentsOut != null).riskModel(risk);
        List<String> segmentImages = new ArrayList<>();
        List<double[]> segmentRows = new ArrayList<>();
        double to = toSeconds == null ? Double.POSITIVE_INFINITY : toSeconds;
        McapOutput mout = null;
        // the scores, the segments and the MCAP are staged and put in place together, or not at all (a full disk while the MCAP
        // is finished leaves the earlier scores.csv as it was)
        try (dev.segsa.io.OutputTransaction txn = new dev.segsa.io.OutputTransaction();
             Segsa engine = builder.saSource(saFile).open();
             McapSource source = new McapSource(mcap, topic, fromSeconds, to, run.skipBadFrames)) {
            java.util.Map<String, String> meta = new java.util.LinkedHashMap<>();
            if (mcapOut != null) {
                meta.put("model", model.toAbsolutePath().normalize().toString());
                meta.put("saFile", saFile.toAbsolutePath().normalize().toString());
                meta.put("saFileSha256", sha256(saFile));
                meta.put("segsaVersion", SegsaCommand.version());
            }
            for (String n : engine.notes()) System.err.println("segsa score: note: " + n);
            List<String> warnings = new ArrayList<>();
            ScoringJob job = new ScoringJob(sa, g);
            Map<String, ScoresCsv.VideoFrameRef> positions = new HashMap<>();
            long t0 = System.nanoTime();
            int n = 0;
            String recording = null;
            for (McapSource.Frame f : source) {
                recording = mcap.getFileName() + ":" + f.topic();
                String name = recording + "#" + f.index();
                FrameResult r = engine.score(f.image(), name);
                positions.put(name, new ScoresCsv.VideoFrameRef(recording, (int) Math.min(Integer.MAX_VALUE, f.index()), f.seconds(),
                        f.logTime()));
                job.add(r, null, null, warnings);
                if (segmentsOut != null) addSegments(engine, r, null, segmentImages, segmentRows);
                if (mcapOut != null && mout == null) {
                    // made at the first frame: the input's header (its profile) has been read by then
                    mout = new McapOutput(txn.stage(mcapOut), sa, mcapCopyInput, source.reader().profile(), mcapHeatmap.equals("png"), meta);
                }
                if (mout != null) mout.add(f, r);
                n++;
            }
            if (source.reader().truncatedAt() >= 0) {
                warnings.add(mcap + ": the file ends inside the record at offset " + source.reader().truncatedAt()
                        + " (a recorder stopped mid-write?): scored the " + n + " frames before it");
            }
            if (!source.inLogTimeOrder() && source.outOfOrderFrames() > 0) {
                warnings.add(mcap + ": read in file order (" + source.fileOrderReason() + "): " + source.outOfOrderFrames()
                        + " frames came earlier than a frame before them; frames are named in file order");
            }
            for (String w : warnings) System.err.println("segsa score: warning: " + w);
            long before = source.skippedBeforeWindow(), after = source.skippedAfterWindow();
            if (before + after > 0) {
                System.err.println("segsa score: note: passed over " + before + " frames before --from and " + after + " after --to of "
                        + (source.topic() == null ? "the camera topic" : source.topic()));
            }
            if (job.scoredFrames() == 0) {
                String topics = "";
                if (n == 0 && before + after == 0) {
                    // a topic the log does not have (or no image on it): name the log's camera topics
                    List<String> images = new ArrayList<>();
                    for (McapSource.ChannelInfo c : McapSource.list(mcap)) if (c.image() && !images.contains(c.topic())) images.add(c.topic());
                    topics = images.isEmpty() ? "; the log has no camera topic" : "; the log's camera topics: " + String.join(", ", images);
                }
                throw new SegsaException(mcap + ": no frame could be scored (" + (n == 0 ? "no camera frame in "
                        + (source.topic() == null ? "the log" : "topic " + source.topic()) + (fromSeconds > 0 || toSeconds != null
                        ? " within --from/--to (" + before + " before, " + after + " after)" : "") + topics
                        : "every frame had NaN/Inf features or logits") + "); " + out + " not written");
            }
            List<ScoresCsv.Row> rows = job.rows();
            ScoresCsv.writeVideo(txn.stage(out), rows, uncertainty, positions);
            if (segmentsOut != null) {
                new dev.segsa.scores.SegmentTable(sa.settings().classNames(), segmentImages, segmentRows).write(txn.stage(segmentsOut));
            }
            if (mout != null) mout.close();  // finished into its staged file
            txn.commit();
            System.out.println(ScoreSummary.table(rows, sa.settings().classNames(), g));
            System.out.println(ScoreSummary.stages(engine.latency(), false));
            System.out.printf(Locale.ROOT, "wrote %s%s (%d frames of %s, %d rows, %.1f s, backend %s)%n", out,
                    mcapOut == null ? "" : " and " + mcapOut, n, recording, rows.size(), (System.nanoTime() - t0) / 1e9, engine.backend());
            if (!source.skippedRanges().isEmpty()) {
                // --skip-bad-frames: chunks that could not be read were skipped to the next indexed chunk
                System.err.println("segsa score: skipped " + source.skippedRanges().size() + " damaged part(s) of " + mcap + ":");
                for (var r : source.skippedRanges()) {
                    System.err.println("  bytes " + r.start() + ".." + r.end() + ": " + r.reason() + (r.messages() >= 0 ? " (" + r.messages()
                            + " frames lost)" : ""));
                }
                return run.allowSkipped ? 0 : SegsaCommand.EXIT_FRAMES_SKIPPED;
            }
            return 0;
        } catch (RuntimeException | Error e) {
            if (mout != null) mout.abort();
            throw e;
        }
    }
}
