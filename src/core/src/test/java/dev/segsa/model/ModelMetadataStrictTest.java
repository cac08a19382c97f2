package dev.segsa.model;

import dev.segsa.error.SegsaException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The model sidecar read through the shared strict readers (SmallTextFile, StrictJson). The model
 * here is not a TorchScript archive (no archive entry), so no LibTorch is needed.
 */
class ModelMetadataStrictTest {
    @TempDir
    Path dir;

    Path model() throws Exception {
        Path m = dir.resolve("net.pt");
        Files.writeString(m, "not a zip");
        return m;
    }

    String refused(Path model, String word) {
        Path side = ModelMetadata.sidecarOf(model);
        SegsaException e = assertThrows(SegsaException.class, () -> ModelMetadata.read(model));
        assertTrue(e.getMessage().startsWith(side.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(word), word + " in: " + e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        return e.getMessage();
    }

    @Test
    void sidecarIsReadStrictly() throws Exception {
        Path m = model();
        Path side = ModelMetadata.sidecarOf(m);
        assertNull(ModelMetadata.read(m).mean(), "no sidecar: nothing");
        Files.writeString(side, "{\"mean\": [0.5, 0.5, 0.5], \"ignoreLabel\": 11, \"training\": {\"epochs\": 3}}");
        assertEquals(11, ModelMetadata.read(m).ignoreLabel());
        Files.writeString(side, "{\"ignoreLabel\": 11, \"ignoreLabel\": 255}");
        String msg = refused(m, "model metadata is not valid JSON");
        assertTrue(msg.contains("\"ignoreLabel\""), msg);
        Files.writeString(side, "{\"ignoreLabel\": 11} {\"ignoreLabel\": 255}");
        refused(m, "content after the end");
        Files.writeString(side, "{\"mean\": [NaN, 0, 0]}");
        refused(m, "not valid JSON");
        Files.writeString(side, "{\"ignoreLabel\": 2.5}");
        refused(m, "'ignoreLabel' must be an integer");
        Files.writeString(side, "{\"ignoreLabel\": 1e20}");
        refused(m, "'ignoreLabel' must be an integer");
        Files.writeString(side, "{\"resize\": [64.5, 48]}");
        refused(m, "'resize' must be [width, height]");
        Files.write(side, "{\"classNames\": [\"Stra\u00dfe\"]}".getBytes(StandardCharsets.ISO_8859_1));
        refused(m, "model metadata is not valid UTF-8");
        Files.writeString(side, "{\"x\": \"" + "a".repeat(ModelMetadata.MAX_METADATA_BYTES) + "\"}");
        refused(m, "the limit is 1048576");
    }

    @Test
    void aSidecarThatIsNotARegularFileIsRefusedNotSkipped() throws Exception {
        Path m = model();
        Path side = ModelMetadata.sidecarOf(m);
        Files.createDirectory(side);
        refused(m, "is a directory");
        Files.delete(side);
        if (Files.exists(Path.of("/dev/zero"))) {
            Files.createSymbolicLink(side, Path.of("/dev/zero"));
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> refused(m, "not a regular file"));
        }
    }

    @Test
    void archiveEntryTextIsParsedByTheSameReader() {
        SegsaException e = assertThrows(SegsaException.class, () -> ModelMetadata.parse("{\"std\": [1, 1, 1], \"std\": [2, 2, 2]}",
                "net.pt!x/extra/segsa.json"));
        assertTrue(e.getMessage().startsWith("net.pt!x/extra/segsa.json: model metadata is not valid JSON"), e.getMessage());
    }
}
