package dev.segsa.cli;

import dev.segsa.features.UpsampleMode;
import dev.segsa.model.ModelMetadata;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.List;

/** Options that describe how to feed the model; each may also come from the model's metadata. */
final class ModelOptions {
    @Option(names = "--mean", paramLabel = "R,G,B", converter = FiniteNumber.Any.class, split = ",",
            description = "Per-channel mean subtracted from RGB scaled to [0,1] (default: model metadata, else 0,0,0).")
    double[] mean;

    @Option(names = "--std", paramLabel = "R,G,B", converter = FiniteNumber.Positive.class, split = ",",
            description = "Per-channel std dividing RGB after the mean (default: model metadata, else 1,1,1).")
    double[] std;

    @Option(names = "--resize", paramLabel = "WxH",
            description = "Feed frames resized to W x H (bilinear; labels nearest). Default: each frame at its own size.")
    String resize;

    @Option(names = "--upsample", paramLabel = "MODE",
            description = "How the model upsamples logits, applied to features too: bilinear (align_corners false), "
                    + "bilinear-aligned, nearest (default: model metadata, else bilinear).")
    String upsample;

    @Option(names = "--class-names", paramLabel = "NAMES", split = ",",
            description = "Class names in id order (default: model metadata, else the ids).")
    List<String> classNames;

    @Option(names = "--ignore-label", paramLabel = "K",
            description = "Label id that counts nowhere (default: model metadata, else 255).")
    Integer ignoreLabel;

    ModelMetadata asMetadata() {
        if (mean != null && mean.length != 3) throw new IllegalArgumentException("--mean needs 3 values, got " + Arrays.toString(mean));
        if (std != null && std.length != 3) throw new IllegalArgumentException("--std needs 3 values, got " + Arrays.toString(std));
        int[] size = null;
        if (resize != null) {
            String[] p = resize.toLowerCase().split("x");
            try {
                if (p.length != 2) throw new NumberFormatException();
                size = new int[] {Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim())};
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--resize must look like 512x336, got '" + resize + "'");
            }
        }
        return new ModelMetadata(mean, std, upsample == null ? null : UpsampleMode.parse(upsample), classNames, ignoreLabel, size);
    }
}
