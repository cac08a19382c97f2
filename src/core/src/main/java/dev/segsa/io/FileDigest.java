package dev.segsa.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The SHA-256 of a file's bytes (or of a folder's files), streamed: the one file hash that model
 * identity, bench records, MCAP metadata and the evaluate report's scores use.
 */
public final class FileDigest {
    private FileDigest() {}

    /** Lower-case hex SHA-256 of the file. */
    public static String sha256(Path file) throws IOException {
        MessageDigest md = sha256();
        update(md, file);
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * Lower-case hex SHA-256 of a file, or of a folder (a Parquet dataset): over every regular file
     * in it, in path order, its path relative to the folder (UTF-8) then its bytes. Of a file it is
     * {@link #sha256(Path)}.
     */
    public static String sha256OfTree(Path fileOrFolder) throws IOException {
        if (!Files.isDirectory(fileOrFolder)) return sha256(fileOrFolder);
        List<Path> files = new ArrayList<>();
        try (var s = Files.walk(fileOrFolder)) {
            s.filter(Files::isRegularFile).forEach(files::add);
        }
        files.sort(null);
        MessageDigest md = sha256();
        for (Path f : files) {
            md.update(fileOrFolder.relativize(f).toString().getBytes(StandardCharsets.UTF_8));
            update(md, f);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);  // every JDK has SHA-256
        }
    }

    private static void update(MessageDigest md, Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
    }
}
