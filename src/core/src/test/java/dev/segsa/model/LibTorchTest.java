package dev.segsa.model;

import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Process-wide LibTorch settings made at load. NNPACK is switched off: it serves only batches of 16
 * or more, and on CPUs it cannot start it otherwise printed a warning on standard error once per
 * forward (796 lines in one segsa bench run, 30,440 in one CI log, before).
 */
class LibTorchTest {
    @Test
    void nnpackIsOffOnceLoaded() {
        LibTorch.ensureLoaded();
        assertFalse(torch.globalContext().userEnabledNNPACK());
    }

    @Test
    void threadsMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> LibTorch.setThreads(0));
    }
}
