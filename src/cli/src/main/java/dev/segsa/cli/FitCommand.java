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

    @picocli.CommandLine.Mixin
    RunOptions run;

    @Override
    public Integer call() {
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
            SaModelFile.write(sa, out);
            for (String note : sa.settings().notes()) System.err.println("segsa fit: note: " + note);
            System.out.println(FitSummary.table(sa));
            System.out.printf(Locale.ROOT, "wrote %s (%d frames, %.1f s)%n", out, sa.settings().frames(), progress.elapsedSeconds());
            return SkippedFrames.report("fit", skipped, frames, run.allowSkipped);
        }
    }
}
