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
 * Auto picks cuda when the build has it (mvn -Pcuda), libsegsa_cuda loads and a device is
 * visible, else native-cpu when {@code libsegsa_cpu.so} loads, else the Java reference. The choice and
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

    /**
     * @throws SegsaException of kind {@link SegsaException.Kind#OTHER} for an unknown name,
     *                        {@link SegsaException.Kind#NATIVE} when the backend asked for cannot start
     */
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
                if (cudaUsable()) {
                    try {
                        Backend b = cuda();
                        logOnce("segsa: backend cuda (auto): " + ((DeviceBackend) b).describe());
                        return b;
                    } catch (SegsaException e) {
                        logOnce("segsa: backend native-cpu (auto): cuda found but failed to start: " + e.getMessage());
                    }
                }
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
            default -> throw new SegsaException(SegsaException.Kind.OTHER, "unknown backend '" + (requested == null ? name : requested)
                    + "': expected auto, reference, native-cpu or cuda");
        }
    }

    private static NativeCpuBackend nativeCpu() {
        if (!NativeLibrary.cpuAvailable()) {
            SegsaException why = NativeLibrary.cpuFailure().orElseThrow();
            throw new SegsaException(SegsaException.Kind.NATIVE, "backend native-cpu is unavailable: " + why.getMessage(), why.code(), why);
        }
        try {
            return new NativeCpuBackend();
        } catch (LinkageError e) {
            throw new SegsaException(SegsaException.Kind.NATIVE, "backend native-cpu is unavailable: " + e, e);
        }
    }

    /**
     * The CUDA backend, or a {@link SegsaException} that gives every reason it cannot start: the
     * build is CPU-only (no {@value #CUDA_BACKEND_CLASS}: build with {@code mvn -Pcuda}),
     * libsegsa_cuda was not built (no nvcc), no device is visible or the driver is too old (the
     * CUDA runtime's own words); then CudaBackend's own checks (LibTorch's CUDA build, devices).
     */
    private static Backend cuda() {
        java.util.List<String> reasons = new java.util.ArrayList<>();
        Class<?> backendClass = null;
        try {
            backendClass = Class.forName(CUDA_BACKEND_CLASS);
        } catch (ClassNotFoundException e) {
            reasons.add("this build is CPU-only (no " + CUDA_BACKEND_CLASS + "; build segsa with mvn -Pcuda)");
        }
        int code = NativeLibrary.ERR_NO_DEVICE;
        if (!NativeLibrary.cudaAvailable()) {
            SegsaException why = NativeLibrary.cudaFailure().orElseThrow();
            reasons.add("libsegsa_cuda is not available: " + why.getMessage());
            code = why.code();
        } else {
            try {
                int devices = NativeLibrary.Cuda.deviceCount();
                if (devices == 0) {
                    String runtime = NativeLibrary.Cuda.lastError();
                    reasons.add(runtime.contains("insufficient")
                            ? "the NVIDIA driver is missing or too old for the CUDA runtime (" + runtime + ")"
                            : "no CUDA device is visible (" + runtime + ")");
                }
            } catch (SegsaException e) {
                reasons.add("the CUDA runtime failed: " + e.getMessage());
                code = e.code();
            } catch (LinkageError e) {
                reasons.add("libsegsa_cuda failed to link: " + e);
            }
        }
        if (!reasons.isEmpty()) {
            throw new SegsaException(SegsaException.Kind.NATIVE, "backend cuda is unavailable: " + String.join("; ", reasons), code, null);
        }
        try {
            return (Backend) backendClass.getDeclaredConstructor().newInstance();
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SegsaException s) throw s.withKind(SegsaException.Kind.NATIVE);
            throw new SegsaException(SegsaException.Kind.NATIVE, "backend cuda failed to start: " + cause, cause);
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new SegsaException(SegsaException.Kind.NATIVE, "backend cuda failed to start: " + e, e);
        }
    }

    /** True when {@code --backend cuda} could start here: the CUDA build, libsegsa_cuda and a device. */
    public static boolean cudaUsable() {
        try {
            Class.forName(CUDA_BACKEND_CLASS);
            return NativeLibrary.cudaAvailable() && NativeLibrary.Cuda.deviceCount() > 0;
        } catch (ClassNotFoundException | SegsaException | LinkageError e) {
            return false;
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
