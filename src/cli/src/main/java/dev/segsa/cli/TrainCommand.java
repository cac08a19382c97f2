package dev.segsa.cli;

import dev.segsa.io.OutputFiles;

import dev.segsa.train.CompactSegNet;
import dev.segsa.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Trains a compact encoder-decoder segmentation network (CompactSegNet) with LibTorch and saves it as "
                + "TorchScript that follows the segsa model contract, with its metadata (normalisation, upsample mode, class names, "
                + "ignore label, training command and seed, validation IoU per class) and a model card (<out>.md).",
                "",
                "Example: segsa train --images train/ --labels trainannot/ --val-images val/ --val-labels valannot/ "
                        + "--classes 11 --ignore-label 11 --epochs 100 --out models/camvid.pt"})
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--images", required = true, paramLabel = "DIR", description = "Training frames.")
    Path images;

    @Option(names = "--labels", required = true, paramLabel = "DIR", description = "Training label masks (same file names).")
    Path labels;

    @Option(names = "--val-images", paramLabel = "DIR", description = "Validation frames: mIoU is reported after every epoch.")
    Path valImages;

    @Option(names = "--val-labels", paramLabel = "DIR", description = "Validation label masks.")
    Path valLabels;

    @Option(names = "--out", required = true, paramLabel = "M.pt", description = "TorchScript model to write (and M.md, its card).")
    Path out;

    @Option(names = "--checkpoints", paramLabel = "DIR", description = "Checkpoint directory (default: <out>.checkpoints).")
    Path checkpoints;

    @Option(names = "--resume", description = "Continue from the checkpoint in the checkpoint directory.")
    boolean resume;

    @Option(names = "--classes", required = true, paramLabel = "C", description = "Number of classes.")
    int classes;

    @Option(names = "--class-names", paramLabel = "NAMES", split = ",", description = "Class names in id order (default: the ids).")
    List<String> classNames;

    @Option(names = "--ignore-label", paramLabel = "K", defaultValue = "255", description = "Label that counts nowhere (default ${DEFAULT-VALUE}).")
    int ignoreLabel;

    @Option(names = "--features", paramLabel = "D", defaultValue = "64", description = "Feature channels at 1/8 (default ${DEFAULT-VALUE}).")
    int features;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "100", description = "Epochs (default ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "4", description = "Frames per step (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--crop", paramLabel = "WxH", defaultValue = "384x288", description = "Random crop size, multiples of 8 (default ${DEFAULT-VALUE}).")
    String crop;

    @Option(names = "--lr", paramLabel = "RATE", converter = FiniteNumber.Positive.class, defaultValue = "0.002", description = "Initial Adam learning rate, decayed polynomially (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--weight-decay", paramLabel = "W", converter = FiniteNumber.NonNegative.class, defaultValue = "0.0001", description = "Adam weight decay (default ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of initialisation and batches (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--threads", paramLabel = "T", converter = ThreadCount.class, description = "LibTorch threads (default: all cores).")
    Integer threads;

    @Option(names = "--mean", paramLabel = "R,G,B", converter = FiniteNumber.Any.class, split = ",", defaultValue = "0.5,0.5,0.5", description = "Input mean (default ${DEFAULT-VALUE}).")
    double[] mean;

    @Option(names = "--std", paramLabel = "R,G,B", converter = FiniteNumber.Positive.class, split = ",", defaultValue = "0.25,0.25,0.25", description = "Input std (default ${DEFAULT-VALUE}).")
    double[] std;

    @Option(names = "--head", paramLabel = "skip|features", defaultValue = "skip",
            description = {"Pixel classifier: 'features' (logits are a 1x1 convolution of the returned 1/4 features alone, the paper's "
                    + "activation-trace contract) or 'skip' (1/8 features, logits also see a 1/4 skip path; the first models). "
                    + "Default ${DEFAULT-VALUE}."})
    String head;

    @Option(names = "--init", paramLabel = "M.pt", description = "Fine-tune: start from this trained model's weights instead of a fresh network.")
    Path init;

    @Option(names = "--max-minutes", paramLabel = "M", converter = FiniteNumber.NonNegative.class, defaultValue = "0",
            description = "Stop after the epoch that passes M minutes (checkpointed; continue with --resume). 0: no limit.")
    double maxMinutes;

    @Option(names = "--validate-every", paramLabel = "N", defaultValue = "1",
            description = {"Validate on --val-images after every N-th epoch; the last epoch is always validated (the model card's "
                    + "figures). 0: after the last epoch only. Validation does not change the network. Default ${DEFAULT-VALUE}."})
    int validateEvery;

    @Override
    public Integer call() {
        OutputFiles.protect(images);
        OutputFiles.protect(labels);
        OutputFiles.protect(valImages);
        OutputFiles.protect(valLabels);
        OutputFiles.protect(init);
        if (init != null && !java.nio.file.Files.isRegularFile(init)) {
            throw new dev.segsa.error.SegsaException("--init " + init + ": no such model file");
        }
        OutputFiles.checkWritableFile(out, "--out");
        CompactSegNet.Head h = CompactSegNet.Head.of(head);
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
        if (validateEvery < 0) throw new IllegalArgumentException("--validate-every must be >= 0, got " + validateEvery);
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        if (features < 1 || features > dev.segsa.model.SegmentationModel.MAX_FEATURES) {
            throw new IllegalArgumentException("--features must be 1 .. " + dev.segsa.model.SegmentationModel.MAX_FEATURES
                    + " (the model contract's limit: the per-class covariance is d x d), got " + features);
        }
        if (classes > 65535) throw new IllegalArgumentException("--classes must be at most 65535, got " + classes);
        if (classes < 1) throw new IllegalArgumentException("--classes must be at least 1");
        if ((valImages == null) != (valLabels == null)) throw new IllegalArgumentException("--val-images and --val-labels go together");
        if (mean.length != 3 || std.length != 3) throw new IllegalArgumentException("--mean and --std need 3 values each");
        String[] wh = crop.toLowerCase().split("x");
        int cw, ch;
        try {
            cw = Integer.parseInt(wh[0]);
            ch = Integer.parseInt(wh[1]);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--crop must look like 384x288, got '" + crop + "'");
        }
        if (cw % 8 != 0 || ch % 8 != 0 || cw <= 0 || ch <= 0) throw new IllegalArgumentException("--crop sides must be positive multiples of 8");
        // sizes and products in long, against the limits the scoring side uses, before anything is allocated
        long cropPixels = (long) cw * ch;
        if (cropPixels > dev.segsa.features.FrameReader.maxPixels()) {
            throw new IllegalArgumentException("--crop " + cw + "x" + ch + " = " + cropPixels + " pixels, above the limit of "
                    + dev.segsa.features.FrameReader.maxPixels() + " (--max-pixels)");
        }
        long batchFloats = (long) batch * 3 * cropPixels;
        if (batchFloats > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("--batch " + batch + " x 3 x --crop " + cw + "x" + ch + " = " + batchFloats
                    + " input values per step, above the " + (Integer.MAX_VALUE - 16) + " a Java array holds: lower --batch or --crop");
        }
        List<String> names = new ArrayList<>();
        for (int c = 0; c < classes; c++) names.add(classNames != null && c < classNames.size() ? classNames.get(c) : Integer.toString(c));
        Path ck = checkpoints != null ? checkpoints : out.resolveSibling(out.getFileName() + ".checkpoints");
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        String command = "segsa " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
        Trainer.Settings s = new Trainer.Settings(images, labels, valImages, valLabels, out, ck, classes, ignoreLabel, names, features,
                epochs, batch, cw, ch, lr, weightDecay, seed, t, mean, std, resume, maxMinutes, command, h, init,
                validateEvery);
        boolean done = new Trainer(s, System.err).run();
        return done ? 0 : SegsaCommand.EXIT_STOPPED;
    }
}
