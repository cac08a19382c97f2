package dev.segsa.cli;

import dev.segsa.io.Progress;
import dev.segsa.synth.ConditionSpec;
import dev.segsa.synth.SyntheticDataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generates synthetic road-scene frames (512 x 336, forward camera) with label masks in the 14 classes "
                + "of the paper's Table 2 (0 Void, 1-3 Lanes white/blue/yellow, 4-8 Road markers arrows/shapes/characters/"
                + "numbers/crosses, 9 Toll gate marker, 10 Vehicles, 11 Road area, 12 Vehicle wheels, 13 General structures).",
                "Writes DIR/images/*.png (RGB), DIR/labels/*.png (8-bit class ids, same names) and DIR/manifest.csv "
                        + "(file,seed,sequence,index,sequence_length,time,shadows,traffic,noise,blur). The same seed gives the same bytes.",
                "",
                "Example: segsa generate --out synth/ --frames 500 --seed 1 --conditions 'time=day:3,night:1,traffic=mix'"},
        footer = {"", ConditionSpec.GRAMMAR, "",
                "Conditions are drawn once per sequence: every frame of a sequence shares them. Numbers are taken at three decimals."})
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write images/, labels/ and manifest.csv into.")
    Path out;

    @Option(names = "--frames", required = true, paramLabel = "N", description = "Number of frames to generate.")
    int frames;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed; the same seed gives identical files (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--conditions", paramLabel = "SPEC", defaultValue = "default",
            description = "Conditions to generate (grammar below; default: day, no complex shadows, light traffic, no noise, no blur).")
    String conditions;

    @Option(names = "--sequence-length", paramLabel = "K", defaultValue = "1",
            description = "Frames per sequence of consecutive frames from a camera moving forward at 10 frames/s (default ${DEFAULT-VALUE}: independent frames).")
    int sequenceLength;

    @Option(names = "--threads", paramLabel = "T", converter = ThreadCount.class, description = "Frames generated in parallel (default: the number of processors). The output does not depend on it.")
    Integer threads;

    @Option(names = "--overwrite", description = "Replace the PNGs and manifest of an earlier run in DIR (otherwise such a DIR is refused).")
    boolean overwrite;

    @Override
    public Integer call() {
        ConditionSpec spec = ConditionSpec.parse(conditions);
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        Progress progress = new Progress("generate", Math.max(frames, 0));
        SyntheticDataset.Summary summary = SyntheticDataset.write(out, frames, seed, spec, sequenceLength, t, overwrite, progress);
        System.out.println(summary.table());
        System.out.printf(Locale.ROOT, "wrote %s (conditions %s, seed %d, sequence length %d)%n", out, spec, seed, sequenceLength);
        return 0;
    }
}
