package dev.segsa.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** SHA-256 of a file and of a folder, against digests computed with Python's hashlib. */
class FileDigestTest {
    @TempDir
    Path dir;

    @Test
    void aFileHashesItsBytes() throws Exception {
        Path f = Files.writeString(dir.resolve("abc.txt"), "abc");
        // hashlib.sha256(b"abc") (FIPS 180-2's example)
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", FileDigest.sha256(f));
        assertEquals(FileDigest.sha256(f), FileDigest.sha256OfTree(f), "of a file the tree hash is the file's");
    }

    @Test
    void aFolderHashesItsFilesInPathOrderWithTheirRelativePaths() throws Exception {
        Path root = Files.createDirectories(dir.resolve("scores.parquet"));
        Files.writeString(Files.createDirectories(root.resolve("sub")).resolve("b.txt"), "de");
        Files.writeString(root.resolve("a.txt"), "abc");
        // hashlib.sha256(b"a.txt" b"abc" b"sub/b.txt" b"de")
        assertEquals("b795bb5b877f00643b3de5e6a1b83125a830429ddaae51c9774fc8fcdbf6b495", FileDigest.sha256OfTree(root));
    }
}
