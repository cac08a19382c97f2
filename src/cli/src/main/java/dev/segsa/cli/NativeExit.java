package dev.segsa.cli;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Ends the process at once with {@code _exit(2)}: no shutdown hooks, no C {@code atexit}
 * handlers, no native static destructors. A forced stop (a second signal, or a first that no
 * frame loop took in time) may come while LibTorch is inside a forward on another thread; tearing
 * its libraries down under it crashes the JVM (SIGSEGV, an hs_err file, exit 134), so the process
 * ends without running any of it. {@code Runtime.halt} is the fallback where {@code _exit} cannot
 * be found.
 */
final class NativeExit {
    private NativeExit() {}

    private static final MethodHandle EXIT = find();

    private static MethodHandle find() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("_exit")
                    .map(a -> linker.downcallHandle(a, FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT)))
                    .orElse(null);
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }

    /** Flushes standard output and error, then ends the process with {@code status}. Never returns. */
    static void now(int status) {
        System.out.flush();
        System.err.flush();
        if (EXIT != null) {
            try {
                EXIT.invokeExact(status);
            } catch (Throwable ignored) {
                // fall through to halt
            }
        }
        Runtime.getRuntime().halt(status);
    }
}
