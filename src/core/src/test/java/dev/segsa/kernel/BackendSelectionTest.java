package dev.segsa.kernel;

import dev.segsa.error.SegsaException;
import dev.segsa.nativelib.NativeLibrary;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Backend choice without a GPU: {@code cuda} is refused with every reason that applies (a
 * CPU-only build, no device or a driver too old), never a silent fallback; {@code auto} picks the
 * native CPU backend here; unknown names are refused with the list of names.
 */
class BackendSelectionTest {
    @Test
    void cudaIsRefusedWithItsReasons() {
        assumeTrue(!Backends.cudaUsable(), "this machine can run the CUDA backend");
        SegsaException e = assertThrows(SegsaException.class, () -> Backends.select("cuda"));
        String m = e.getMessage();
        assertTrue(m.startsWith("backend cuda is unavailable: "), m);
        boolean cpuOnlyBuild;
        try {
            Class.forName(Backends.CUDA_BACKEND_CLASS);
            cpuOnlyBuild = false;
        } catch (ClassNotFoundException absent) {
            cpuOnlyBuild = true;
        }
        if (cpuOnlyBuild) assertTrue(m.contains("this build is CPU-only") && m.contains("mvn -Pcuda"), m);
        if (NativeLibrary.cudaAvailable() && NativeLibrary.Cuda.deviceCount() == 0) {
            assertTrue(m.contains("driver is missing or too old") || m.contains("no CUDA device is visible"), m);
        }
        if (!NativeLibrary.cudaAvailable()) assertTrue(m.contains("libsegsa_cuda is not available"), m);
        assertEquals(NativeLibrary.ERR_NO_DEVICE, e.code(), m);
    }

    @Test
    void autoPicksTheNativeCpuBackendWithoutADevice() {
        assumeTrue(!Backends.cudaUsable(), "this machine can run the CUDA backend");
        assertFalse(Backends.cudaUsable());
        try (Backend b = Backends.select("auto")) {
            assertEquals(NativeLibrary.cpuAvailable() ? "native-cpu" : "reference", b.name());
        }
    }

    @Test
    void unknownNamesAreRefusedWithTheChoices() {
        SegsaException e = assertThrows(SegsaException.class, () -> Backends.select("tpu"));
        assertTrue(e.getMessage().contains("expected auto, reference, native-cpu or cuda"), e.getMessage());
    }
}
