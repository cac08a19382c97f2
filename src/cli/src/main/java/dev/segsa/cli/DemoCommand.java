package dev.segsa.cli;

import dev.segsa.demo.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs the whole loop on the embedded default: generates synthetic in-distribution fit frames and a test set "
                + "mixing in-distribution with night, complex-shadow and heavy-traffic frames, fits SA with models/synthetic-day.pt, "
                + "scores the test set against its labels, and writes scores.csv, heatmaps of the highest- and lowest-SA frames "
                + "and a summary table (Spearman rho of SA vs IoU per class group; mean SA per condition).",
                "",
                "Example: segsa demo   (writes out/demo/)"})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "M.pt", description = "Model (default: models/synthetic-day.pt in the segsa home).")
    Path model;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "out/demo", description = "Output directory (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--fit-frames", paramLabel = "N", defaultValue = "150", description = "In-distribution fit frames (default ${DEFAULT-VALUE}).")
    int fitFrames;

    @Option(names = "--test-frames", paramLabel = "N", defaultValue = "160", description = "Test frames (default ${DEFAULT-VALUE}).")
    int testFrames;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "2020", description = "Seed of the generated frames (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--heatmaps", paramLabel = "K", defaultValue = "3", description = "Heatmaps of the K highest and K lowest SA frames (default ${DEFAULT-VALUE}).")
    int heatmaps;

    @Option(names = "--backend", paramLabel = "NAME", description = "SA kernels: auto (default), reference, native-cpu, cuda.")
    String backend;

    @Override
    public Integer call() {
        Path m = model != null ? model : Path.of(System.getProperty("segsa.home", ".")).resolve("models/synthetic-day.pt");
        int threads = Runtime.getRuntime().availableProcessors();
        new Demo(new Demo.Settings(m, out, fitFrames, testFrames, seed, threads, heatmaps), System.err).run(backend);
        return 0;
    }
}
