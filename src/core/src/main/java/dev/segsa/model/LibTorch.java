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
    /** JavaCPP's platform extension of the preset's CUDA build (natives under linux-x86_64-gpu/). */
    static final String GPU_EXTENSION = "-gpu";
    private static final String EXTENSION_PROPERTY = "org.bytedeco.javacpp.platform.extension";
    private static volatile boolean loaded;
    private static volatile boolean cuda;

    private LibTorch() {}

    public static synchronized void ensureLoaded() {
        if (loaded) return;
        // mvn -Pcuda puts the preset's CUDA build (natives under linux-x86_64-gpu/) on the classpath instead of the
        // CPU build: JavaCPP finds it with the platform extension -gpu
        String gpu = "/org/bytedeco/pytorch/" + Loader.getPlatform() + GPU_EXTENSION + "/";
        if (System.getProperty(EXTENSION_PROPERTY) == null && LibTorch.class.getResource(gpu) != null
                && LibTorch.class.getResource("/org/bytedeco/pytorch/" + Loader.getPlatform() + "/") == null) {
            System.setProperty(EXTENSION_PROPERTY, GPU_EXTENSION);
        }
        if (GPU_EXTENSION.equals(System.getProperty(EXTENSION_PROPERTY))) {
            try {
                Loader.cacheResources(gpu);
                Loader.load(torch.class);
                cuda = true;
                loaded = true;
            } catch (Exception | UnsatisfiedLinkError e) {
                throw new SegsaException(SegsaException.Kind.NATIVE, "cannot load LibTorch's CUDA build (org.bytedeco:pytorch for " + Loader.getPlatform()
                        + GPU_EXTENSION + ", built with -Pcuda): " + e + "; it needs the CUDA 13.1 runtime and cuDNN 9.19 "
                        + "(install them, or build with -Pcuda,cuda-redist)", e);
            }
        }
        if (!loaded) {
            try {
                Loader.cacheResources("/org/bytedeco/pytorch/" + Loader.getPlatform() + "/");
                Loader.load(torch.class);
                cuda = GPU_EXTENSION.equals(System.getProperty(EXTENSION_PROPERTY));
            } catch (Exception | UnsatisfiedLinkError e) {
                throw new SegsaException(SegsaException.Kind.NATIVE, "cannot load LibTorch (org.bytedeco:pytorch for " + Loader.getPlatform() + "): " + e, e);
            }
        }
        // NNPACK serves only batches of 16 or more (PyTorch's use_nnpack), never segsa's frames; left enabled, each
        // convolution first asks whether NNPACK is available, and where it cannot start (CPUs it does not know) that
        // prints "Could not initialize NNPACK! Reason: Unsupported hardware." on standard error once per forward
        torch.globalContext().setUserEnabledNNPACK(false);
        if (System.getenv("OMP_WAIT_POLICY") == null) {
            System.getLogger("segsa").log(System.Logger.Level.DEBUG,
                    "OMP_WAIT_POLICY is not set; OpenMP busy-waiting may slow LibTorch on few cores (bin/segsa sets PASSIVE)");
        }
        loaded = true;
    }

    /** True when the loaded LibTorch is the preset's CUDA build (it may still see no device). */
    public static boolean hasCuda() {
        ensureLoaded();
        return cuda;
    }

    /** Which build of the preset is loaded, for messages: "linux-x86_64" or "linux-x86_64-gpu". */
    public static String variant() {
        ensureLoaded();
        return Loader.getPlatform() + (cuda ? GPU_EXTENSION : "");
    }

    /** LibTorch's intra-op threads, process-wide (n >= 1). */
    public static void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        ensureLoaded();
        torch.set_num_threads(n);
    }
}
