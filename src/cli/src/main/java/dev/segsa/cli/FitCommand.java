package dev.segsa.cli;

import dev.segsa.model.ModelMetadata;

import dev.segsa.io.OutputFiles;

import dev.segsa.Segsa;
import dev.segsa.SegsaFit;
import dev.segsa.error.SegsaException;

import dev.segsa.features.FrameReader;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.io.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "fit", mixinStandardHelpOptions = true,
        description = {"Fits per-class SA models (MDSA statistics over every labelled pixel, LSA reference samples) "
                + "from labelled training frames.",
                "",
                "Example: segsa fit --model model.pt --images train/ --labels trainannot/ --out model.sa"})
final class FitCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "M.pt", description = "TorchScript segmentation model.")
    Path model;

    @Option(names = "--images", required = true, paramLabel = "DIR", description = "Training frames (PNG, JPEG, BMP).")
    Path images;

    @Option(names = "--labels", required = true, paramLabel = "DIR",
            description = "8-bit grayscale PNG masks of class ids, same file names as the frames.")
    Path labels;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "SA model file to write.")
    Path out;

    @Option(names = "--lsa-references", paramLabel = "N", defaultValue = "10000",
            description = "LSA reference traces sampled per class (default ${DEFAULT-VALUE}; 0 skips LSA).")
    int lsaReferences;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the reference sampling (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--backend", paramLabel = "NAME",
            description = "SA kernels: auto (default), reference, native-cpu, cuda.")
    String backend;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--decode-ahead", paramLabel = "N", defaultValue = "2",
            description = "Frames decoded ahead on a background thread while the model runs (default ${DEFAULT-VALUE}; 0: one after the other).")
    int decodeAhead;

    @Option(names = "--at-check-frames", paramLabel = "N", defaultValue = "8",
            description = {"Frames of --images for the activation-trace check: are the logits a per-pixel (linear) function of the "
                    + "returned features? A warning when the best linear head explains less than 99%% (default ${DEFAULT-VALUE}; "
                    + "0: no check)."})
    int atCheckFrames;

    @Option(names = "--class-min-share", paramLabel = "X", converter = FiniteNumber.ShareOrNegative.class, defaultValue = "0.0028935185185185184",
            description = {"After fitting, score the fit frames once and record, per class, the distribution of their frame-level "
                    + "class MDSA over the frames where the class covers at least this share of the frame (default 500 pixels of "
                    + "480x360): the reference of the class-aware frame score (score's mdsa_pct column, select, watch). "
                    + "A negative value skips the pass."})
    double classMinShare;

    @Option(names = "--class-weights", paramLabel = "NAME=W,...",
            description = "Weights of the classes in the class-aware frame score (default 1 each; 0 leaves a class out), e.g. "
                    + "Pedestrian=1,Bicyclist=1,Sky=0.")
    String classWeights;

    @picocli.CommandLine.Mixin
    RunOptions run;

    /** Scores the fit frames with the fitted models: the class MDSA distributions of the class-aware score. */
    private dev.segsa.samodel.ClassFrameReference frameReference(SaModel sa, int frames, double[] weights) {
        var builder = new dev.segsa.samodel.ClassFrameReference.Builder(sa.classes(), classMinShare);
        try (Segsa engine = Segsa.builder(model, sa).backend(backend).trustModel(run.trustModel).threads(run.threads).open()) {
            Progress progress = new Progress("fit: class reference", frames);
            engine.scoreFolder(images, null, decodeAhead, run.skipBadFrames, (f, r) -> {
                if (r.scored()) builder.add(r.predictedPixels(), r.mdsaMean());
                progress.step();
            });
        }
        return builder.build().withWeights(weights);
    }

    /** Parses NAME=W,... into one weight per class (1 where not named). */
    static double[] weights(List<String> classNames, String spec) {
        double[] w = new double[classNames.size()];
        java.util.Arrays.fill(w, 1);
        if (spec == null || spec.isBlank()) return w;
        for (String part : spec.split(",")) {
            int eq = part.lastIndexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("--class-weights: '" + part + "' is not NAME=WEIGHT");
            String name = part.substring(0, eq).trim();
            int c = classNames.indexOf(name);
            if (c < 0) throw new IllegalArgumentException("--class-weights: no class '" + name + "' (classes: " + String.join(", ", classNames) + ")");
            double v;
            try {
                v = Double.parseDouble(part.substring(eq + 1).trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--class-weights: weight of " + name + " '" + part.substring(eq + 1) + "' is not a number");
            }
            if (!(v >= 0 && v <= 1e6)) throw new IllegalArgumentException("--class-weights: weight of " + name + " must be in [0, 1e6], got " + v);
            w[c] = v;
        }
        return w;
    }

    @Override
    public Integer call() {
        if (run.optimizeModel) {
            throw new IllegalArgumentException("--optimize-model applies to score and bench: fit runs the model as it was saved");
        }
        OutputFiles.protect(model);
        OutputFiles.protect(ModelMetadata.sidecarOf(model));
        OutputFiles.protect(images);
        OutputFiles.protect(labels);
        OutputFiles.checkWritableFile(out, "--out");
        int frames = FrameReader.listFrames(images).size();
        SegsaFit.Builder builder = SegsaFit.builder(model).settings(modelOptions.asMetadata()).lsaReferences(lsaReferences)
                .seed(seed).backend(backend).trustModel(run.trustModel).threads(run.threads);
        try (SegsaFit fit = builder.open()) {
            Progress progress = new Progress("fit", frames);
            List<Segsa.SkippedFrame> skipped = fit.addFolder(images, labels, decodeAhead, run.skipBadFrames, progress::step);
            SaModel sa;
            try {
                sa = fit.finish();
            } catch (SegsaException e) {
                throw new SegsaException(images + ": " + e.getMessage(), e);
            }
            // the class weights name classes: checked now, before anything is written
            double[] weights = classMinShare >= 0 ? weights(sa.settings().classNames(), classWeights) : null;
            SaModelFile.write(sa, out); // first: a check that fails (or is stopped) never costs the fit
            for (String note : sa.settings().notes()) System.err.println("segsa fit: note: " + note);
            if (atCheckFrames > 0) {
                List<java.nio.file.Path> first = FrameReader.listFrames(images);
                first = first.subList(0, Math.min(atCheckFrames, first.size()));
                List<java.awt.image.BufferedImage> imgs = new java.util.ArrayList<>();
                List<String> names = new java.util.ArrayList<>();
                for (java.nio.file.Path p : first) {
                    try {
                        imgs.add(FrameReader.readImage(p));
                        names.add(p.getFileName().toString());
                    } catch (SegsaException e) {
                        if (!run.skipBadFrames) throw e;
                    }
                }
                if (!imgs.isEmpty()) {
                    var check = fit.checkActivationTraces(imgs, names, 4000, seed);
                    (check.looksBroken() ? System.err : System.out).println("segsa fit: " + check.line());
                    if (check.looksBroken()) {
                        // recorded in the SA file, so that segsa evaluate's report carries the warning
                        var st = sa.settings();
                        List<String> notes = new java.util.ArrayList<>(st.notes());
                        notes.add(EvaluateCommand.ACTIVATION_TRACE_NOTE + " " + check.line());
                        sa = new SaModel(new SaModel.FitSettings(st.modelFile(), st.modelSha256(), st.upsample(), st.mean(), st.std(),
                                st.resize(), st.ignoreLabel(), st.classNames(), st.featureDimension(), st.lsaReferences(), st.seed(),
                                st.frames(), List.copyOf(notes)), sa.statistics(), sa.references(), sa.frameReference());
                        SaModelFile.write(sa, out); // again, atomically, with the note
                    }
                }
            }
            if (classMinShare >= 0) {
                sa = sa.withFrameReference(frameReference(sa, frames, weights));
                SaModelFile.write(sa, out); // again, atomically, with the fit frames' class MDSA distributions
            }
            System.out.println(FitSummary.table(sa));
            String few = FitSummary.fewReferenceFrames(sa);
            if (few != null) System.err.println("segsa fit: note: " + few);
            System.out.printf(Locale.ROOT, "wrote %s (%d frames, %.1f s)%n", out, sa.settings().frames(), progress.elapsedSeconds());
            return SkippedFrames.report("fit", skipped, frames, run.allowSkipped);
        }
    }
}
