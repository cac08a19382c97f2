package dev.segsa.kernel;

import dev.segsa.error.SegsaException;
import dev.segsa.nativelib.NativeLibrary;

import java.lang.reflect.InvocationTargetException;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Chooses the SA backend by name: {@code "reference"}, {@code "native-cpu"}, {@code "cuda"} or
 * {@code "auto"}/null. With null the system property {@code segsa.backend} is read (default auto).
 * Auto picks native-cpu when {@code libsegsa_cpu.so} loads, else the Java reference. The choice and
 * any fallback reason are logged once (System.Logger, stderr by default). Forcing a backend that is
 * unavailable throws a {@link SegsaException} that says why.
 */
public final class Backends {
    public static final String PROPERTY = "segsa.backend";
    /** Class of the CUDA backend, looked up reflectively so this class compiles without it. */
    static final String CUDA_BACKEND_CLASS = "dev.segsa.kernel.CudaBackend";

    private static final System.Logger LOG = System.getLogger(Backends.class.getName());
    private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();

    private Backends() {}

    public static Backend select(String requested) {
        String name = requested;
        if (name == null) name = System.getProperty(PROPERTY);
        if (name == null || name.isBlank()) name = "auto";
        name = name.trim().toLowerCase(Locale.ROOT);
        switch (name) {
            case "reference" -> {
                logOnce("segsa: backend reference (requested)");
                return new ReferenceBackend();
            }
            case "native-cpu" -> {
                NativeCpuBackend b = nativeCpu();
                logOnce("segsa: backend native-cpu (requested), " + NativeLibrary.cpuPath() + ", " + b.isa());
                return b;
            }
            case "cuda" -> {
                Backend b = cuda();
                logOnce("segsa: backend cuda (requested)");
                return b;
            }
            case "auto" -> {
                if (NativeLibrary.cpuAvailable()) {
                    try {
                        NativeCpuBackend b = new NativeCpuBackend();
                        logOnce("segsa: backend native-cpu (auto), " + NativeLibrary.cpuPath() + ", " + b.isa());
                        return b;
                    } catch (SegsaException | LinkageError e) {
                        logOnce("segsa: backend reference (auto): native-cpu failed to start: " + e.getMessage());
                        return new ReferenceBackend();
                    }
                }
                String why = NativeLibrary.cpuFailure().map(Throwable::getMessage).orElse("unknown reason");
                logOnce("segsa: backend reference (auto): native-cpu unavailable: " + why);
                return new ReferenceBackend();
            }
            default -> throw new SegsaException("unknown backend '" + (requested == null ? name : requested)
                    + "': expected auto, reference, native-cpu or cuda");
        }
    }

    private static NativeCpuBackend nativeCpu() {
        if (!NativeLibrary.cpuAvailable()) {
            SegsaException why = NativeLibrary.cpuFailure().orElseThrow();
            throw new SegsaException("backend native-cpu is unavailable: " + why.getMessage(), why.code(), why);
        }
        try {
            return new NativeCpuBackend();
        } catch (LinkageError e) {
            throw new SegsaException("backend native-cpu is unavailable: " + e, e);
        }
    }

    private static Backend cuda() {
        if (!NativeLibrary.cudaAvailable()) {
            SegsaException why = NativeLibrary.cudaFailure().orElseThrow();
            throw new SegsaException("backend cuda is unavailable: " + why.getMessage(), why.code(), why);
        }
        int devices;
        try {
            devices = NativeLibrary.Cuda.deviceCount();
        } catch (SegsaException e) {
            throw new SegsaException("backend cuda is unavailable: " + e.getMessage(), e.code(), e);
        } catch (LinkageError e) {
            throw new SegsaException("backend cuda is unavailable: " + e, e);
        }
        if (devices == 0) {
            throw new SegsaException("backend cuda is unavailable: libsegsa_cuda loaded but no CUDA device is visible ("
                    + NativeLibrary.Cuda.lastError() + ")", NativeLibrary.ERR_NO_DEVICE, null);
        }
        try {
            Class<?> c = Class.forName(CUDA_BACKEND_CLASS);
            return (Backend) c.getDeclaredConstructor().newInstance();
        } catch (ClassNotFoundException e) {
            throw new SegsaException("backend cuda is unavailable: " + devices
                    + " CUDA device(s) found but this build has no " + CUDA_BACKEND_CLASS, e);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SegsaException s) throw s;
            throw new SegsaException("backend cuda failed to start: " + cause, cause);
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new SegsaException("backend cuda failed to start: " + e, e);
        }
    }

    /**
     * Threads of the native CPU kernels, process-wide (0: all cores); a no-op when the native
     * library is not loaded (the reference backend is single-threaded). The kernels' results do not
     * depend on it: every reduction has one fixed order.
     */
    public static void setKernelThreads(int threads) {
        if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        if (NativeLibrary.cpuAvailable()) NativeLibrary.Cpu.setThreads(threads);
    }

    private static void logOnce(String message) {
        if (LOGGED.add(message)) LOG.log(System.Logger.Level.INFO, message);
    }
}
