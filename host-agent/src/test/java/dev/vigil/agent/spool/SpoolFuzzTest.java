package dev.vigil.agent.spool;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.vigil.agent.FuzzFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The spool's segment files as a crash, a full disk or a careless hand may leave them: the agent writes a good record,
 * the input replaces the bytes after it, and the spool reopens and drains. Whatever the bytes, it reads good records,
 * skips or truncates the rest and says so; it never throws anything but an {@link IOException}, hangs or runs out of
 * heap. The first record, written before the damage, always comes back.
 */
class SpoolFuzzTest {

    private static final SpoolRecord GOOD = new SpoolRecord(
            "vigil.agent.events.v1",
            "vm-1",
            "0193f5a2-0000-7000-8000-000000000001",
            Map.of("ce_type", "dev.vigil.agent.event".getBytes(StandardCharsets.UTF_8)),
            "a crash event".getBytes(StandardCharsets.UTF_8));

    @FuzzTest
    void reopensAndDrainsWhateverFollowsAGoodRecord(byte[] damage) throws IOException {
        Path dir = Files.createTempDirectory(FuzzFiles.scratch(), "vigil-spool-fuzz-");
        try {
            try (Spool spool = Spool.open(dir, 1 << 20, 64 << 10)) {
                spool.append(Lane.EVIDENCE, GOOD);
                spool.sync();
            }
            Path segment;
            try (Stream<Path> files = Files.list(dir.resolve("evidence"))) {
                segment = files.filter(f -> f.toString().endsWith(".seg"))
                        .findFirst()
                        .orElseThrow();
            }
            Files.write(segment, damage, java.nio.file.StandardOpenOption.APPEND);
            try (Spool spool = Spool.open(dir, 1 << 20, 64 << 10)) {
                List<SpooledRecord> read = spool.next(1000);
                if (read.isEmpty()
                        || !GOOD.eventId().equals(read.get(0).record().eventId())) {
                    throw new AssertionError("the record written before the damage is lost");
                }
                for (int rounds = 0; rounds < 100 && !read.isEmpty(); rounds++) {
                    read.forEach(spool::ack);
                    read = spool.next(1000);
                }
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
