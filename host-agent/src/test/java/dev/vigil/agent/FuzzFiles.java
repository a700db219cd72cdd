package dev.vigil.agent;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where fuzz tests of file formats write: memory (/dev/shm) where there is one, so an fsync costs no disk. */
public final class FuzzFiles {

    private FuzzFiles() {}

    public static Path scratch() {
        Path shm = Path.of("/dev/shm");
        return Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
    }
}
