package dev.segsa.cli;

import dev.segsa.features.FrameReader;
import dev.segsa.fit.Fitter;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.model.ModelMetadata;
import dev.segsa.model.ModelSettings;
import dev.segsa.model.SegmentationModel;
import dev.segsa.io.Progress;
import dev.segsa.kernel.Backend;
import dev.segsa.kernel.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
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

    @Override
    public Integer call() {
        ModelSettings settings = ModelSettings.resolve(modelOptions.asMetadata(), ModelMetadata.read(model));
        int frames = FrameReader.listFrames(images).size();
        try (SegmentationModel m = SegmentationModel.load(model, settings.upsample());
             Backend b = Backends.select(backend)) {
            Progress progress = new Progress("fit", frames);
            SaModel sa = new Fitter(m, settings, b, lsaReferences, seed).fit(images, labels, progress);
            SaModelFile.write(sa, out);
            for (String note : sa.settings().notes()) System.err.println("segsa fit: note: " + note);
            System.out.println(FitSummary.table(sa));
            System.out.printf(Locale.ROOT, "wrote %s (%d frames, %.1f s)%n", out, sa.settings().frames(), progress.elapsedSeconds());
        }
        return 0;
    }
}
