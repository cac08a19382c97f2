package dev.segsa.io;

import dev.segsa.error.SegsaException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** All-or-nothing outputs: permissions from the umask, temporaries of dead runs removed, a failed write leaves nothing. */
class AtomicOutputTest {
    @TempDir
    Path dir;

    @Test
    void permissionsComeFromTheUmaskLikeAnyNewFile() throws IOException {
        Path out = dir.resolve("out.csv");
        AtomicOutput.write(out, "a,b\n".getBytes());
        Path plain = Files.createFile(dir.resolve("plain"));  // created with the process umask
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(plain);
        assertEquals(expected, Files.getPosixFilePermissions(out));
        assertTrue(expected.contains(PosixFilePermission.OWNER_WRITE));
    }

    @Test
    void aDeadRunsTemporaryIsRemovedALiveOnesIsKept() throws Exception {
        Path out = dir.resolve("scores.csv");
        // a pid far above pid_max (2^22) belongs to no process
        Path stale = Files.writeString(dir.resolve(".scores.csv" + AtomicOutput.TEMP_MARK + "99999999-1a2b"), "partial");
        Process sleeper = new ProcessBuilder("sleep", "30").start();
        try {
            Path live = Files.writeString(dir.resolve(".scores.csv" + AtomicOutput.TEMP_MARK + sleeper.pid() + "-3c4d"), "in progress");
            Path other = Files.writeString(dir.resolve(".other.csv" + AtomicOutput.TEMP_MARK + "99999999-5e6f"), "another output's");
            AtomicOutput.write(out, "x\n".getBytes());
            assertFalse(Files.exists(stale), "a dead run's temporary is removed");
            assertTrue(Files.exists(live), "a running process's temporary is kept");
            assertTrue(Files.exists(other), "only this output's temporaries are touched");
            assertEquals("x\n", Files.readString(out));
        } finally {
            sleeper.destroy();
        }
    }

    @Test
    void aFailedWriteLeavesNoOutputAndNoTemporary() throws IOException {
        Path out = dir.resolve("model.sa");
        Files.writeString(out, "the earlier one");
        assertThrows(SegsaException.class, () -> AtomicOutput.write(out, o -> {
            o.write("half".getBytes());
            throw new IOException("disk full");
        }));
        assertEquals("the earlier one", Files.readString(out), "the earlier output is kept whole");
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary left");
        }
    }

    @Test
    void neverWritesThroughALink() throws IOException {
        Path target = Files.writeString(dir.resolve("target"), "keep");
        Path link = Files.createSymbolicLink(dir.resolve("link.csv"), target);
        SegsaException e = assertThrows(SegsaException.class, () -> AtomicOutput.write(link, "x".getBytes()));
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
        assertEquals("keep", Files.readString(target));
        assertTrue(Files.isSymbolicLink(link));
    }
}
