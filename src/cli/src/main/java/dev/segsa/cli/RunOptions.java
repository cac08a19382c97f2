package dev.segsa.cli;

import picocli.CommandLine.Option;

/** Options of the commands that run a model over many frames (fit, score): trust, threads, bad frames. */
final class RunOptions {
    @Option(names = "--trust-model",
            description = "Run the model without inspecting its TorchScript code first (by default a model that calls operators "
                    + "on files, or operators from outside LibTorch, is refused before it runs).")
    boolean trustModel;

    @Option(names = "--skip-bad-frames",
            description = "Go on past frames that cannot be read or used (corrupt image, bad mask, model error on the frame), "
                    + "list them with their reasons, and exit with status 5 unless --allow-skipped.")
    boolean skipBadFrames;

    @Option(names = "--allow-skipped", description = "With --skip-bad-frames: exit 0 although frames were skipped.")
    boolean allowSkipped;

    @Option(names = "--optimize-model",
            description = "Freeze the model (torch::jit::freeze: constants inlined, conv-BN folded); used only after the first frame's "
                    + "features and logits matched the original module's within 1e-4 x max(1, max |output|) (else the run fails "
                    + "naming the difference). Off by default: it can change the model's numerics (see bench/RESULTS.md).")
    boolean optimizeModel;

    @Option(names = "--threads", paramLabel = "N", converter = ThreadCount.class,
            description = "Threads of inference and of the SA kernels (default: all cores); the output does not depend on it.")
    int threads;
}
