package dev.segsa.model;

import dev.segsa.error.SegsaException;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/**
 * Loads LibTorch (JavaCPP presets) once. Caches all of the preset's native resources before
 * loading so that a system-wide libtorch (e.g. Debian's python3-torch) is never picked up by the
 * dynamic loader (see docs: cold-start crash in Dispatcher::registerFallback).
 */
public final class LibTorch {
    private static volatile boolean loaded;

    private LibTorch() {}

    public static synchronized void ensureLoaded() {
        if (loaded) return;
        try {
            Loader.cacheResources("/org/bytedeco/pytorch/" + Loader.getPlatform() + "/");
            Loader.load(torch.class);
        } catch (Exception | UnsatisfiedLinkError e) {
            throw new SegsaException("cannot load LibTorch (org.bytedeco:pytorch for " + Loader.getPlatform() + "): " + e, e);
        }
        if (System.getenv("OMP_WAIT_POLICY") == null) {
            System.getLogger("segsa").log(System.Logger.Level.DEBUG,
                    "OMP_WAIT_POLICY is not set; OpenMP busy-waiting may slow LibTorch on few cores (bin/segsa sets PASSIVE)");
        }
        loaded = true;
    }

    /** LibTorch's intra-op threads, process-wide (n >= 1). */
    public static void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        ensureLoaded();
        torch.set_num_threads(n);
    }
}
