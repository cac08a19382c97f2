package dev.segsa.nativelib;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The C ABI of libsegsa_cuda as Java calls it, without needing a GPU: every exported function
 * is found with the signature Java binds, argument errors come back as status codes with a
 * message naming the function (checked before any CUDA call, so host pointers are safe here), and
 * on a machine without a usable device a call that reaches the CUDA runtime fails with
 * SEGSA_ERR_CUDA naming the failing runtime call, file and line. Skipped where the library was
 * not built (no nvcc). The kernels' results are compared with the CPU kernels by cuda/check.sh
 * on a GPU machine.
 */
class CudaLibraryAbiTest {
    private static final int D = 8, H0 = 3, W0 = 5, H = 9, W = 17, C = 4;

    @BeforeAll
    static void libraryBuilt() {
        assumeTrue(NativeLibrary.cudaAvailable(),
                () -> "libsegsa_cuda not built: " + NativeLibrary.cudaFailure().map(Throwable::getMessage).orElse(""));
    }

    @Test
    void versionMatchesTheCpuLibraryAndDeviceCountAnswers() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT, 6);
            assertEquals(NativeLibrary.OK, (int) NativeLibrary.Cuda.VERSION.invokeExact(v, v.asSlice(4), v.asSlice(8)));
            assertEquals(NativeLibrary.OK, (int) NativeLibrary.Cpu.VERSION.invokeExact(v.asSlice(12), v.asSlice(16), v.asSlice(20)));
            for (int i = 0; i < 3; i++) assertEquals(v.getAtIndex(JAVA_INT, 3 + i), v.getAtIndex(JAVA_INT, i), "version part " + i);
        }
        assertTrue(NativeLibrary.Cuda.deviceCount() >= 0);
    }

    @Test
    void workspaceQueriesAnswerForValidShapesAndRefuseInvalidOnes() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment bytes = a.allocate(JAVA_LONG);
            assertEquals(NativeLibrary.OK, (int) NativeLibrary.Cuda.WORKSPACE_BYTES.invokeExact(64, 42, 64, 336, 512, 12, bytes));
            assertTrue(bytes.get(JAVA_LONG, 0) > 0);
            assertEquals(NativeLibrary.OK, (int) NativeLibrary.Cuda.LSA_WORKSPACE_BYTES.invokeExact(64, 42, 64, 336, 512, 12, bytes));
            long lsa = bytes.get(JAVA_LONG, 0);
            // z (C cells d) + dot-product chunk (C cells 128) in float64, per the header
            assertTrue(lsa >= 12L * 42 * 64 * (64 + 128) * 8, "LSA workspace " + lsa);
            assertEquals(NativeLibrary.OK, (int) NativeLibrary.Cuda.ACCUMULATE_WORKSPACE_BYTES.invokeExact(64, 42, 64, 336, 512, 12, bytes));
            assertTrue(bytes.get(JAVA_LONG, 0) > 0);

            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "segsa_cuda_lsa_workspace_bytes",
                    (int) NativeLibrary.Cuda.LSA_WORKSPACE_BYTES.invokeExact(0, 42, 64, 336, 512, 12, bytes));
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "segsa_cuda_accumulate_workspace_bytes",
                    (int) NativeLibrary.Cuda.ACCUMULATE_WORKSPACE_BYTES.invokeExact(64, 42, 64, 336, 512, -1, bytes));
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "segsa_cuda_lsa_workspace_bytes",
                    (int) NativeLibrary.Cuda.LSA_WORKSPACE_BYTES.invokeExact(64, 42, 64, 336, 512, 12, MemorySegment.NULL));
        }
    }

    @Test
    void lsaFrameRefusesBadArgumentsWithTheirNames() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            Frame f = new Frame(a);
            MemorySegment models = lsaModels(a, C, D);
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "features is null",
                    lsa(MemorySegment.NULL, D, 0, f.pixels, C, models, 10, f.ws, f.wsBytes, f));
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "upsample_mode=3",
                    lsa(f.features, D, 3, f.pixels, C, models, 10, f.ws, f.wsBytes, f));
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "models is null",
                    lsa(f.features, D, 0, f.pixels, C, MemorySegment.NULL, 10, f.ws, f.wsBytes, f));
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "models are for 4 classes of dimension 8, call has 4 classes, d=7",
                    lsa(f.features, D - 1, 0, f.pixels, C, models, 10, f.ws, f.wsBytes, f));
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "max_references=-1",
                    lsa(f.features, D, 0, f.pixels, C, models, -1, f.ws, f.wsBytes, f));
            MemorySegment holey = lsaModels(a, C, D);
            holey.set(ADDRESS, NativeLibrary.LSA_MODELS.byteOffset(MemoryLayout.PathElement.groupElement("refs_t")), MemorySegment.NULL);
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "a models array pointer",
                    lsa(f.features, D, 0, f.pixels, C, holey, 10, f.ws, f.wsBytes, f));
            assertStatus(NativeLibrary.ERR_WORKSPACE_TOO_SMALL, "segsa_cuda_lsa_workspace_bytes",
                    lsa(f.features, D, 0, f.pixels, C, models, 10, f.ws, 64, f));
        }
    }

    @Test
    void accumulateFrameRefusesBadArgumentsWithTheirNames() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            Frame f = new Frame(a);
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "segsa_cuda_accumulate_frame",
                    accumulate(f.features, H0, f.pixels, f.ws, f.wsBytes, f, MemorySegment.NULL));
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "must be positive",
                    accumulate(f.features, 0, f.pixels, f.ws, f.wsBytes, f, f.means));
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "per-pixel class array is null",
                    accumulate(f.features, H0, MemorySegment.NULL, f.ws, f.wsBytes, f, f.means));
            assertStatus(NativeLibrary.ERR_WORKSPACE_TOO_SMALL, "segsa_cuda_accumulate_workspace_bytes",
                    accumulate(f.features, H0, f.pixels, MemorySegment.NULL, f.wsBytes, f, f.means));
        }
    }

    /** Without a usable device, the first runtime call fails: status SEGSA_ERR_CUDA, the call, file and line. */
    @Test
    void withoutADeviceTheFailingRuntimeCallIsNamed() throws Throwable {
        assumeTrue(NativeLibrary.Cuda.deviceCount() == 0, "a CUDA device is present: host pointers must not reach it");
        try (Arena a = Arena.ofConfined()) {
            Frame f = new Frame(a);
            int st = lsa(f.features, D, 0, f.pixels, C, lsaModels(a, C, D), 10, f.ws, f.wsBytes, f);
            assertStatus(NativeLibrary.ERR_CUDA, "segsa_cuda_lsa_frame: cudaMemsetAsync", st);
            assertTrue(NativeLibrary.Cuda.lastError().matches("(?s).*segsa_cuda\\.cu:\\d+.*"), NativeLibrary.Cuda.lastError());
            st = accumulate(f.features, H0, f.pixels, f.ws, f.wsBytes, f, f.means);
            assertStatus(NativeLibrary.ERR_CUDA, "segsa_cuda_accumulate_frame: cudaMemsetAsync", st);
        }
    }

    /** The batched MDSA entry point: workspace grows with n, bad batch sizes and pointers are refused by name. */
    @Test
    void mdsaBatchSizesItsWorkspaceAndRefusesBadArguments() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment bytes = a.allocate(JAVA_LONG);
            assertEquals(NativeLibrary.OK, (int) NativeLibrary.Cuda.WORKSPACE_BYTES.invokeExact(64, 42, 64, 336, 512, 12, bytes));
            long one = bytes.get(JAVA_LONG, 0);
            assertEquals(NativeLibrary.OK, (int) NativeLibrary.Cuda.MDSA_BATCH_WORKSPACE_BYTES.invokeExact(1, 64, 42, 64, 336, 512, 12, bytes));
            assertEquals(one, bytes.get(JAVA_LONG, 0), "a batch of 1 needs what segsa_cuda_workspace_bytes says");
            assertEquals(NativeLibrary.OK, (int) NativeLibrary.Cuda.MDSA_BATCH_WORKSPACE_BYTES.invokeExact(8, 64, 42, 64, 336, 512, 12, bytes));
            long eight = bytes.get(JAVA_LONG, 0);
            // the whitened cells of every class present, per frame: 12 classes x 2688 cells x 64 float64
            long z = 12L * 42 * 64 * 64 * 8;
            assertTrue(eight >= one + 7 * z && eight < 8 * one + 4096, "8 frames: " + eight + " bytes, 1 frame: " + one);
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "n <= 65535",
                    (int) NativeLibrary.Cuda.MDSA_BATCH_WORKSPACE_BYTES.invokeExact(0, 64, 42, 64, 336, 512, 12, bytes));
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "n <= 65535",
                    (int) NativeLibrary.Cuda.MDSA_BATCH_WORKSPACE_BYTES.invokeExact(65536, 64, 42, 64, 336, 512, 12, bytes));

            Frame f = new Frame(a);
            MemorySegment models = mdsaModels(a, C, D);
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "segsa_cuda_mdsa_batch: batch of 0 frames",
                    mdsaBatch(f.features, 0, f.pixels, models, f.ws, f.wsBytes, f));
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "segsa_cuda_mdsa_batch: features, predicted",
                    mdsaBatch(MemorySegment.NULL, 2, f.pixels, models, f.ws, f.wsBytes, f));
            assertStatus(NativeLibrary.ERR_INVALID_ARGUMENT, "models are for 5 classes of dimension 8, call has 4 classes",
                    mdsaBatch(f.features, 2, f.pixels, mdsaModels(a, C + 1, D), f.ws, f.wsBytes, f));
            assertStatus(NativeLibrary.ERR_WORKSPACE_TOO_SMALL, "segsa_cuda_mdsa_batch_workspace_bytes",
                    mdsaBatch(f.features, 2, f.pixels, models, f.ws, 64, f));
            if (NativeLibrary.Cuda.deviceCount() == 0) {
                MemorySegment big = a.allocate(JAVA_LONG);
                assertEquals(NativeLibrary.OK, (int) NativeLibrary.Cuda.MDSA_BATCH_WORKSPACE_BYTES.invokeExact(2, D, H0, W0, H, W, C, big));
                MemorySegment ws = a.allocate(big.get(JAVA_LONG, 0), 256);
                assertStatus(NativeLibrary.ERR_CUDA, "segsa_cuda_mdsa_batch: cudaMemsetAsync",
                        mdsaBatch(f.features, 2, f.pixels, models, ws, big.get(JAVA_LONG, 0), f));
            }
        }
    }

    private static void assertStatus(int expected, String messagePart, int status) {
        String message = NativeLibrary.Cuda.lastError();
        assertEquals(expected, status, message);
        assertTrue(message.contains(messagePart), "expected '" + messagePart + "' in: " + message);
    }

    /** Host buffers with the shapes of a small frame; workspace sized by the library's own queries. */
    private static final class Frame {
        final MemorySegment features, pixels, ws, map, classPixels, classSums, counts, means, comoments;
        final long wsBytes;

        Frame(Arena a) throws Throwable {
            features = a.allocate(JAVA_DOUBLE, (long) D * H0 * W0);
            pixels = a.allocate(JAVA_INT, (long) H * W);
            MemorySegment bytes = a.allocate(JAVA_LONG);
            long need = 0;
            if ((int) NativeLibrary.Cuda.LSA_WORKSPACE_BYTES.invokeExact(D, H0, W0, H, W, C, bytes) != NativeLibrary.OK) {
                throw new AssertionError(NativeLibrary.Cuda.lastError());
            }
            need = Math.max(need, bytes.get(JAVA_LONG, 0));
            if ((int) NativeLibrary.Cuda.ACCUMULATE_WORKSPACE_BYTES.invokeExact(D, H0, W0, H, W, C, bytes) != NativeLibrary.OK) {
                throw new AssertionError(NativeLibrary.Cuda.lastError());
            }
            wsBytes = Math.max(need, bytes.get(JAVA_LONG, 0));
            ws = a.allocate(wsBytes, 256);
            map = a.allocate(JAVA_INT, (long) H * W);
            classPixels = a.allocate(JAVA_LONG, C);
            classSums = a.allocate(JAVA_DOUBLE, C);
            counts = a.allocate(JAVA_LONG, C);
            means = a.allocate(JAVA_DOUBLE, (long) C * D);
            comoments = a.allocate(JAVA_DOUBLE, (long) C * D * D);
        }
    }

    /** A segsa_mdsa_models struct whose seven array pointers point at (unused) host memory. */
    private static MemorySegment mdsaModels(Arena a, int classes, int dim) {
        MemorySegment s = a.allocate(NativeLibrary.MDSA_MODELS);
        s.set(JAVA_INT, 0, classes);
        s.set(JAVA_INT, 4, dim);
        MemorySegment arrays = a.allocate(JAVA_DOUBLE, 1024);
        long first = NativeLibrary.MDSA_MODELS.byteOffset(MemoryLayout.PathElement.groupElement("active_count"));
        for (int i = 0; i < 7; i++) s.set(ADDRESS, first + 8L * i, arrays);
        return s;
    }

    private static int mdsaBatch(MemorySegment features, int n, MemorySegment predicted, MemorySegment models, MemorySegment ws,
                                 long wsBytes, Frame f) throws Throwable {
        return (int) NativeLibrary.Cuda.MDSA_BATCH.invokeExact(features, n, D, H0, W0, H, W, 0, predicted, C, models, ws, wsBytes,
                f.map, f.classPixels, f.classSums, MemorySegment.NULL);
    }

    /** A segsa_lsa_models struct whose twelve array pointers point at (unused) host memory. */
    private static MemorySegment lsaModels(Arena a, int classes, int dim) {
        MemorySegment s = a.allocate(NativeLibrary.LSA_MODELS);
        s.set(JAVA_INT, 0, classes);
        s.set(JAVA_INT, 4, dim);
        MemorySegment arrays = a.allocate(JAVA_DOUBLE, 1024);
        long first = NativeLibrary.LSA_MODELS.byteOffset(MemoryLayout.PathElement.groupElement("active_count"));
        for (int i = 0; i < 12; i++) s.set(ADDRESS, first + 8L * i, arrays);
        return s;
    }

    private static int lsa(MemorySegment features, int d, int mode, MemorySegment predicted, int classes, MemorySegment models,
                           int maxRefs, MemorySegment ws, long wsBytes, Frame f) throws Throwable {
        return (int) NativeLibrary.Cuda.LSA_FRAME.invokeExact(features, d, H0, W0, H, W, mode, predicted, classes, models,
                maxRefs, ws, wsBytes, f.map, f.classPixels, f.classSums, MemorySegment.NULL);
    }

    private static int accumulate(MemorySegment features, int h0, MemorySegment labels, MemorySegment ws, long wsBytes, Frame f,
                                  MemorySegment means) throws Throwable {
        return (int) NativeLibrary.Cuda.ACCUMULATE_FRAME.invokeExact(features, D, h0, W0, H, W, 0, labels, C, ws, wsBytes,
                f.counts, means, f.comoments, MemorySegment.NULL);
    }
}
