package dev.segsa.nativelib;

import dev.segsa.error.SegsaException;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The one loader of segsa's own native libraries ({@code native/segsa.h}): {@code libsegsa_cpu.so}
 * and, optionally, {@code libsegsa_cuda.so}.
 *
 * <p>A library is searched in this order, and the first that loads wins:
 * <ol>
 *   <li>the system property {@code segsa.native.path}: a library file, or a directory holding it;</li>
 *   <li>the classpath resource {@code /native/linux-x86_64/<library>} (CMake installs it into
 *       {@code target/classes} during the Maven build): used in place when it is a file, extracted to a
 *       temporary file when it is inside a jar.</li>
 * </ol>
 * When none loads, the {@link SegsaException} lists every path tried with the reason ({@code dlerror}
 * text, missing file, ...). Libraries are loaded into {@link Arena#global()} and never unloaded (they
 * are also linked with {@code -z nodelete}: unloading live OpenMP threads crashed the JVM).
 *
 * <p>The downcall handles of the CPU library are static finals in {@link Cpu}; touch that class only
 * after {@link #cpuAvailable()} returned true (or call {@link #cpu()} which throws the load error).
 * A non-zero native status becomes a {@link SegsaException} carrying the status code and the
 * library's thread-local message through {@link #check(int, String)}.
 */
public final class NativeLibrary {
    public static final String PATH_PROPERTY = "segsa.native.path";
    public static final String CPU_LIBRARY = "libsegsa_cpu.so";
    public static final String CUDA_LIBRARY = "libsegsa_cuda.so";

    /** Status codes of native/segsa.h. */
    public static final int OK = 0;
    public static final int ERR_INVALID_ARGUMENT = 1;
    public static final int ERR_OUT_OF_MEMORY = 2;
    public static final int ERR_WORKSPACE_TOO_SMALL = 3;
    public static final int ERR_BUFFER_TOO_SMALL = 4;
    public static final int ERR_CUDA = 5;
    public static final int ERR_NO_DEVICE = 6;
    public static final int ERR_INTERNAL = 7;

    private static final System.Logger LOG = System.getLogger(NativeLibrary.class.getName());
    private static final Linker LINKER = Linker.nativeLinker();

    /**
     * Layout of {@code segsa_mdsa_models}: int32 num_classes, int32 dim, then six pointers
     * (active_count, offset, active_index, mean, chol_offset, chol).
     */
    public static final StructLayout MDSA_MODELS = MemoryLayout.structLayout(
            JAVA_INT.withName("num_classes"), JAVA_INT.withName("dim"),
            ADDRESS.withName("active_count"), ADDRESS.withName("offset"), ADDRESS.withName("active_index"),
            ADDRESS.withName("mean"), ADDRESS.withName("chol_offset"), ADDRESS.withName("chol"), ADDRESS.withName("chol_inv"));

    /** Layout of {@code segsa_lsa_models}: int32 num_classes, int32 dim, then twelve pointers. */
    public static final StructLayout LSA_MODELS = MemoryLayout.structLayout(
            JAVA_INT.withName("num_classes"), JAVA_INT.withName("dim"),
            ADDRESS.withName("active_count"), ADDRESS.withName("offset"), ADDRESS.withName("active_index"),
            ADDRESS.withName("centre"), ADDRESS.withName("chol_offset"), ADDRESS.withName("chol"),
            ADDRESS.withName("ref_count"), ADDRESS.withName("refs_t_offset"), ADDRESS.withName("refs_t"),
            ADDRESS.withName("ref_offset"), ADDRESS.withName("ref_norm2"), ADDRESS.withName("log_norm"));

    private NativeLibrary() {}

    /** A library that loaded, or the reason none did. */
    private record Loaded(SymbolLookup lookup, Path path, SegsaException failure) {}

    private static final class CpuHolder {
        static final Loaded LOADED = tryLoad(CPU_LIBRARY);
    }

    private static final class CudaHolder {
        static final Loaded LOADED = tryLoad(CUDA_LIBRARY);
    }

    private static Loaded tryLoad(String library) {
        try {
            List<String> tried = new ArrayList<>();
            SymbolLookup lookup = locate(library, System.getProperty(PATH_PROPERTY), tried);
            return new Loaded(lookup, Path.of(tried.getLast()), null);
        } catch (SegsaException e) {
            return new Loaded(null, null, e);
        }
    }

    /** True when {@code libsegsa_cpu.so} loaded. */
    public static boolean cpuAvailable() {
        return CpuHolder.LOADED.failure == null;
    }

    /** Why the CPU library did not load, if it did not. */
    public static Optional<SegsaException> cpuFailure() {
        return Optional.ofNullable(CpuHolder.LOADED.failure);
    }

    /** The loaded CPU library; throws the load error (listing the paths tried) when it did not load. */
    public static SymbolLookup cpu() {
        Loaded l = CpuHolder.LOADED;
        if (l.failure != null) throw l.failure;
        return l.lookup;
    }

    /** The file the CPU library was loaded from. */
    public static Path cpuPath() {
        cpu();
        return CpuHolder.LOADED.path;
    }

    /** Where libsegsa_cuda.so was loaded from. */
    public static Path cudaPath() {
        cuda();
        return CudaHolder.LOADED.path;
    }

    /** True when {@code libsegsa_cuda.so} loaded (says nothing about devices). */
    public static boolean cudaAvailable() {
        return CudaHolder.LOADED.failure == null;
    }

    public static Optional<SegsaException> cudaFailure() {
        return Optional.ofNullable(CudaHolder.LOADED.failure);
    }

    /** The loaded CUDA library; throws the load error when it did not load. */
    public static SymbolLookup cuda() {
        Loaded l = CudaHolder.LOADED;
        if (l.failure != null) throw l.failure;
        return l.lookup;
    }

    /**
     * Searches and loads {@code library} (a file name such as {@code libsegsa_cpu.so}): first
     * {@code overridePath} (file or directory, may be null), then the classpath resource. Not
     * cached: {@link #cpu()} and {@link #cuda()} cache their result.
     *
     * @param tried receives every path tried; the last one is the one that loaded
     * @throws SegsaException listing every path tried and why it failed
     */
    public static SymbolLookup locate(String library, String overridePath, List<String> tried) {
        List<String> reasons = new ArrayList<>();
        if (overridePath != null && !overridePath.isBlank()) {
            Path p = Path.of(overridePath.trim());
            if (Files.isDirectory(p)) p = p.resolve(library);
            tried.add(p.toString());
            Opened o = tryOpen(p);
            if (o.lookup != null) return o.lookup;
            reasons.add(p + " (from -D" + PATH_PROPERTY + "): " + o.why);
        }
        String platform = platform();
        if (platform == null) {
            reasons.add("classpath: no bundled library for os.name=" + System.getProperty("os.name")
                    + " os.arch=" + System.getProperty("os.arch") + " (only linux-x86_64 is built)");
        } else {
            String resource = "/native/" + platform + "/" + library;
            URL url = NativeLibrary.class.getResource(resource);
            if (url == null) {
                tried.add("classpath:" + resource);
                reasons.add("classpath:" + resource + ": not found (was the Maven build run with -DskipNative?)");
            } else {
                Path p;
                String extractWhy = null;
                if ("file".equals(url.getProtocol())) {
                    try {
                        p = Path.of(url.toURI());
                    } catch (URISyntaxException | IllegalArgumentException e) {
                        p = null;
                        extractWhy = "bad resource URL " + url + ": " + e.getMessage();
                    }
                } else {
                    try {
                        p = extract(url, library);
                    } catch (IOException e) {
                        p = null;
                        extractWhy = "could not extract " + url + " to a temporary file: " + e.getMessage();
                    }
                }
                if (p == null) {
                    tried.add(url.toString());
                    reasons.add(url + ": " + extractWhy);
                } else {
                    tried.add(p.toString());
                    Opened o = tryOpen(p);
                    if (o.lookup != null) {
                        if (!reasons.isEmpty()) {
                            LOG.log(System.Logger.Level.WARNING, "segsa: loaded {0} from {1} after: {2}",
                                    library, p, String.join("; ", reasons));
                        }
                        return o.lookup;
                    }
                    reasons.add(p + " (classpath " + url + "): " + o.why);
                }
            }
        }
        throw new SegsaException("cannot load native library " + library + "; tried:\n  - "
                + String.join("\n  - ", reasons), ERR_INVALID_ARGUMENT, null);
    }

    private record Opened(SymbolLookup lookup, String why) {}

    /** The loaded library, or the reason it did not load (dlerror text when there is one). */
    private static Opened tryOpen(Path p) {
        if (!Files.exists(p)) return new Opened(null, "no such file");
        if (!Files.isRegularFile(p)) return new Opened(null, "not a regular file");
        if (!Files.isReadable(p)) return new Opened(null, "not readable");
        String magic = elfMagic(p);
        if (magic != null) return new Opened(null, magic);
        try {
            return new Opened(SymbolLookup.libraryLookup(p, Arena.global()), null);
        } catch (IllegalArgumentException | IllegalCallerException e) {
            String dl = Dl.error(p);
            return new Opened(null, dl != null ? dl : String.valueOf(e.getMessage()));
        }
    }

    /** Null when {@code p} starts with the ELF magic, else why not (checked before dlopen, which warns on junk). */
    private static String elfMagic(Path p) {
        try (InputStream in = Files.newInputStream(p)) {
            byte[] b = in.readNBytes(4);
            if (b.length == 4 && b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F') return null;
            return "not an ELF shared library (bad magic)";
        } catch (IOException e) {
            return "cannot read: " + e.getMessage();
        }
    }

    /** dlopen/dlerror through libc, only to obtain the reason a library did not load. */
    private static final class Dl {
        static String error(Path p) {
            try {
                SymbolLookup libc = LINKER.defaultLookup();
                Optional<MemorySegment> dlopen = libc.find("dlopen");
                Optional<MemorySegment> dlerror = libc.find("dlerror");
                if (dlopen.isEmpty() || dlerror.isEmpty()) return null;
                MethodHandle open = LINKER.downcallHandle(dlopen.get(), FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
                MethodHandle err = LINKER.downcallHandle(dlerror.get(), FunctionDescriptor.of(ADDRESS));
                try (Arena a = Arena.ofConfined()) {
                    err.invoke(); // clear
                    MemorySegment h = (MemorySegment) open.invoke(a.allocateFrom(p.toString()), 2 /* RTLD_NOW */);
                    if (!MemorySegment.NULL.equals(h)) return null;
                    MemorySegment msg = (MemorySegment) err.invoke();
                    if (MemorySegment.NULL.equals(msg)) return null;
                    return msg.reinterpret(4096).getString(0);
                }
            } catch (Throwable t) {
                return null;
            }
        }
    }

    private static Path extract(URL url, String library) throws IOException {
        String base = library.endsWith(".so") ? library.substring(0, library.length() - 3) : library;
        Path tmp = Files.createTempFile(base + "-", ".so");
        tmp.toFile().deleteOnExit();
        try (InputStream in = url.openStream()) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        return tmp;
    }

    /** "linux-x86_64" on the platforms segsa builds for, else null. */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"))) return "linux-x86_64";
        return null;
    }

    /** Name of a native status code. */
    public static String statusName(int code) {
        return switch (code) {
            case OK -> "SEGSA_OK";
            case ERR_INVALID_ARGUMENT -> "SEGSA_ERR_INVALID_ARGUMENT";
            case ERR_OUT_OF_MEMORY -> "SEGSA_ERR_OUT_OF_MEMORY";
            case ERR_WORKSPACE_TOO_SMALL -> "SEGSA_ERR_WORKSPACE_TOO_SMALL";
            case ERR_BUFFER_TOO_SMALL -> "SEGSA_ERR_BUFFER_TOO_SMALL";
            case ERR_CUDA -> "SEGSA_ERR_CUDA";
            case ERR_NO_DEVICE -> "SEGSA_ERR_NO_DEVICE";
            case ERR_INTERNAL -> "SEGSA_ERR_INTERNAL";
            default -> "status " + code;
        };
    }

    /**
     * Throws a {@link SegsaException} with {@code status} as its code and the CPU library's last
     * error message when {@code status} is not 0.
     */
    public static void check(int status, String function) {
        if (status != OK) throw failure(status, function, Cpu.lastError());
    }

    /** As {@link #check} for the CUDA library. */
    public static void checkCuda(int status, String function) {
        if (status != OK) throw failure(status, function, Cuda.lastError());
    }

    private static SegsaException failure(int status, String function, String message) {
        String m = message == null || message.isEmpty() ? "(no message)" : message;
        return new SegsaException("native " + function + " failed with " + statusName(status) + ": " + m, status, null);
    }

    private static MethodHandle handle(SymbolLookup lib, String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment sym = lib.find(name).orElseThrow(() -> new SegsaException(
                "native library lacks symbol " + name + " (stale build? rebuild native/)", ERR_INTERNAL, null));
        return LINKER.downcallHandle(sym, fd, options);
    }

    /**
     * Downcall handles of {@code libsegsa_cpu.so} (see native/segsa.h for the contracts). Class
     * initialisation throws the load error when the library is unavailable.
     */
    public static final class Cpu {
        private Cpu() {}

        private static final SymbolLookup LIB = cpu();
        private static final Linker.Option CRITICAL = Linker.Option.critical(false);

        public static final MethodHandle LAST_ERROR = handle(LIB, "segsa_last_error",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), CRITICAL);
        public static final MethodHandle VERSION = handle(LIB, "segsa_version",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), CRITICAL);
        public static final MethodHandle CPU_ISA = handle(LIB, "segsa_cpu_isa",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        public static final MethodHandle MAX_THREADS = handle(LIB, "segsa_max_threads",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        public static final MethodHandle SET_THREADS = handle(LIB, "segsa_set_threads",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        public static final MethodHandle LSA_SET_PRUNING = handle(LIB, "segsa_lsa_set_pruning",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        public static final MethodHandle LSA_PRUNING_STATS = handle(LIB, "segsa_lsa_pruning_stats",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
        public static final MethodHandle WORKSPACE_BYTES = handle(LIB, "segsa_workspace_bytes",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
                CRITICAL);
        /** int segsa_mdsa_frame(features, d, h0, w0, H, W, mode, predicted, C, models, ws, wsBytes, map, pixels, sums). */
        public static final MethodHandle MDSA_FRAME = handle(LIB, "segsa_mdsa_frame",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS));
        /** int segsa_accumulate_frame(features, d, h0, w0, H, W, mode, labels, C, ws, wsBytes, counts, means, comoments). */
        public static final MethodHandle ACCUMULATE_FRAME = handle(LIB, "segsa_accumulate_frame",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS));

        public static final MethodHandle LOGITS_WORKSPACE_BYTES = handle(LIB, "segsa_logits_workspace_bytes",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), CRITICAL);
        /**
         * int segsa_logits_frame(logits, C, h, w, H, W, mode, ws, wsBytes, predicted, classPixels, nonFiniteLogits,
         * uncertaintySums, features, featureValues, nonFiniteFeatures).
         */
        public static final MethodHandle LOGITS_FRAME = handle(LIB, "segsa_logits_frame",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
        /**
         * int segsa_logits_maps_frame(logits, C, h, w, H, W, mode, ws, wsBytes, predicted, classPixels, nonFiniteLogits,
         * uncertaintySums, features, featureValues, nonFiniteFeatures, entropyMap, marginMap, probabilities).
         */
        public static final MethodHandle LOGITS_MAPS_FRAME = handle(LIB, "segsa_logits_maps_frame",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS,
                        ADDRESS));

        public static final MethodHandle CLASS_STATISTICS_WORKSPACE_BYTES = handle(LIB, "segsa_class_statistics_workspace_bytes",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS), CRITICAL);
        /**
         * int segsa_class_statistics(map, predicted, pixels, C, threshold, ws, wsBytes, max, p95, share); a critical
         * call that may read the map from the Java heap.
         */
        public static final MethodHandle CLASS_STATISTICS = handle(LIB, "segsa_class_statistics",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_DOUBLE, ADDRESS, JAVA_LONG, ADDRESS,
                        ADDRESS, ADDRESS), Linker.Option.critical(true));

        public static final MethodHandle SEGMENTS_WORKSPACE_BYTES = handle(LIB, "segsa_segments_workspace_bytes",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), CRITICAL);
        /** int segsa_segments_label(predicted, H, W, C, ws, wsBytes, segmentIds, segmentCount); a critical call (heap arrays allowed). */
        public static final MethodHandle SEGMENTS_LABEL = handle(LIB, "segsa_segments_label",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS),
                Linker.Option.critical(true));
        /**
         * int segsa_segments_features(predicted, segmentIds, count, H, W, C, heatMaps, K, probabilities, labels, ws, wsBytes,
         * out, outRowsCapacity); a critical call (heap arrays allowed).
         */
        public static final MethodHandle SEGMENTS_FEATURES = handle(LIB, "segsa_segments_features",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT,
                        ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG), Linker.Option.critical(true));

        /** The calling thread's last error message of the CPU library. */
        public static String lastError() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocate(1024);
                int st = (int) LAST_ERROR.invokeExact(buf, 1024L);
                return st == OK ? buf.getString(0) : "(segsa_last_error failed with status " + st + ")";
            } catch (Throwable t) {
                return "(segsa_last_error threw " + t + ")";
            }
        }

        /** "major.minor.patch" of the loaded library. */
        public static String version() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment v = a.allocate(JAVA_INT, 3);
                int st = (int) VERSION.invokeExact(v, v.asSlice(4), v.asSlice(8));
                check(st, "segsa_version");
                return v.getAtIndex(JAVA_INT, 0) + "." + v.getAtIndex(JAVA_INT, 1) + "." + v.getAtIndex(JAVA_INT, 2);
            } catch (SegsaException e) {
                throw e;
            } catch (Throwable t) {
                throw new SegsaException("segsa_version: " + t, t);
            }
        }

        /** The SIMD level the kernels use on this CPU: "avx512", "avx2" or "scalar". */
        public static String isa() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocate(64);
                int st = (int) CPU_ISA.invokeExact(buf, 64L);
                check(st, "segsa_cpu_isa");
                return buf.getString(0);
            } catch (SegsaException e) {
                throw e;
            } catch (Throwable t) {
                throw new SegsaException("segsa_cpu_isa: " + t, t);
            }
        }

        /** OpenMP threads the kernels use. */
        public static int maxThreads() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(JAVA_INT);
                int st = (int) MAX_THREADS.invokeExact(out);
                check(st, "segsa_max_threads");
                return out.get(JAVA_INT, 0);
            } catch (SegsaException e) {
                throw e;
            } catch (Throwable t) {
                throw new SegsaException("segsa_max_threads: " + t, t);
            }
        }

        /** Threads every kernel uses from now on, process-wide (0: all cores). Results do not depend on it. */
        public static void setThreads(int threads) {
            try {
                int st = (int) SET_THREADS.invokeExact(threads);
                check(st, "segsa_set_threads");
            } catch (SegsaException e) {
                throw e;
            } catch (Throwable t) {
                throw new SegsaException("segsa_set_threads: " + t, t);
            }
        }

        /** How the LSA kernel treats references (native/segsa.h, segsa_lsa_set_pruning). */
        public enum LsaPruningMode {
            /** Skip the references a proved bound puts below e^-40 of the pixel's largest kernel (the default). */
            PRUNE,
            /** Prune, and also evaluate every skipped reference to count bound violations (tests). */
            PRUNE_VERIFY,
            /** Evaluate every (pixel, reference) pair (the benchmarks' peer). */
            EXHAUSTIVE
        }

        /** Sets how the LSA kernel treats references, process-wide. Results agree within 4.3e-14 at 10^4 references. */
        public static void setLsaPruning(LsaPruningMode mode) {
            try {
                int st = (int) LSA_SET_PRUNING.invokeExact(mode.ordinal());
                check(st, "segsa_lsa_set_pruning");
            } catch (SegsaException e) {
                throw e;
            } catch (Throwable t) {
                throw new SegsaException("segsa_lsa_set_pruning: " + t, t);
            }
        }

        /** Process-wide LSA pruning counters since the last reset; {@code reset} zeroes them. */
        public static LsaPruning lsaPruning(boolean reset) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(JAVA_LONG, 3);
                int st = (int) LSA_PRUNING_STATS.invokeExact(out, out.asSlice(8), out.asSlice(16), reset ? 1 : 0);
                check(st, "segsa_lsa_pruning_stats");
                return new LsaPruning(out.getAtIndex(JAVA_LONG, 0), out.getAtIndex(JAVA_LONG, 1), out.getAtIndex(JAVA_LONG, 2));
            } catch (SegsaException e) {
                throw e;
            } catch (Throwable t) {
                throw new SegsaException("segsa_lsa_pruning_stats: " + t, t);
            }
        }

        /** (pixel, reference) pairs the LSA kernel evaluated and skipped, and bound violations seen in verify mode. */
        public record LsaPruning(long evaluated, long pruned, long violations) {
            /** Share of the pairs the bound skipped (NaN when none were seen). */
            public double prunedFraction() {
                long all = evaluated + pruned;
                return all == 0 ? Double.NaN : (double) pruned / all;
            }
        }

        /** segsa_workspace_bytes: workspace size for both frame kernels at this shape. */
        public static long workspaceBytes(int d, int h0, int w0, int height, int width, int classes) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(JAVA_LONG);
                int st = (int) WORKSPACE_BYTES.invokeExact(d, h0, w0, height, width, classes, out);
                check(st, "segsa_workspace_bytes");
                return out.get(JAVA_LONG, 0);
            } catch (SegsaException e) {
                throw e;
            } catch (Throwable t) {
                throw new SegsaException("segsa_workspace_bytes: " + t, t);
            }
        }
    }

    /**
     * Downcall handles of {@code libsegsa_cuda.so}. Class initialisation throws the load error
     * when the library is unavailable.
     */
    public static final class Cuda {
        private Cuda() {}

        private static final SymbolLookup LIB = cuda();

        public static final MethodHandle LAST_ERROR = handle(LIB, "segsa_cuda_last_error",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        public static final MethodHandle DEVICE_COUNT = handle(LIB, "segsa_cuda_device_count",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        public static final MethodHandle WORKSPACE_BYTES = handle(LIB, "segsa_cuda_workspace_bytes",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        /** As {@link Cpu#MDSA_FRAME} on device pointers, plus a trailing cudaStream_t. */
        public static final MethodHandle MDSA_FRAME = handle(LIB, "segsa_cuda_mdsa_frame",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        public static final MethodHandle MDSA_BATCH_WORKSPACE_BYTES = handle(LIB, "segsa_cuda_mdsa_batch_workspace_bytes",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        /** segsa_cuda_mdsa_batch(features, n, d, h0, w0, H, W, mode, predicted, C, models, ws, wsBytes, map, pixels, sums, stream). */
        public static final MethodHandle MDSA_BATCH = handle(LIB, "segsa_cuda_mdsa_batch",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        public static final MethodHandle VERSION = handle(LIB, "segsa_cuda_version",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        public static final MethodHandle LSA_WORKSPACE_BYTES = handle(LIB, "segsa_cuda_lsa_workspace_bytes",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        /**
         * segsa_cuda_lsa_frame: as {@code segsa_lsa_frame} on device pointers, with {@code max_references}
         * (host int) after the models and a trailing cudaStream_t.
         */
        public static final MethodHandle LSA_FRAME = handle(LIB, "segsa_cuda_lsa_frame",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        public static final MethodHandle ACCUMULATE_WORKSPACE_BYTES = handle(LIB, "segsa_cuda_accumulate_workspace_bytes",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        /** segsa_cuda_accumulate_frame: as {@link Cpu#ACCUMULATE_FRAME} on device pointers, plus a trailing cudaStream_t. */
        public static final MethodHandle ACCUMULATE_FRAME = handle(LIB, "segsa_cuda_accumulate_frame",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS));

        public static String lastError() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocate(1024);
                int st = (int) LAST_ERROR.invokeExact(buf, 1024L);
                return st == OK ? buf.getString(0) : "(segsa_cuda_last_error failed with status " + st + ")";
            } catch (Throwable t) {
                return "(segsa_cuda_last_error threw " + t + ")";
            }
        }

        /** Number of CUDA devices (0 without driver or device). */
        public static int deviceCount() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(JAVA_INT);
                int st = (int) DEVICE_COUNT.invokeExact(out);
                checkCuda(st, "segsa_cuda_device_count");
                return out.get(JAVA_INT, 0);
            } catch (SegsaException e) {
                throw e;
            } catch (Throwable t) {
                throw new SegsaException("segsa_cuda_device_count: " + t, t);
            }
        }
    }
}
