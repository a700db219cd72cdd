package dev.vigil.agent.spool;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolTest {

    private static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void resumesAfterARestartAtTheFirstUnacknowledgedRecord() throws IOException {
        try (Spool spool = Spool.open(dir, 64 * MIB, MIB)) {
            for (int i = 0; i < 5; i++) {
                spool.append(Lane.EVIDENCE, record("e" + i));
            }
            List<SpooledRecord> batch = spool.next(10);
            spool.ack(batch.get(0));
            spool.ack(batch.get(1));
            // e3 acked out of order: e2 is still in flight, so the cursor stays at e2.
            spool.ack(batch.get(3));
        }
        try (Spool reopened = Spool.open(dir, 64 * MIB, MIB)) {
            assertThat(ids(reopened.next(10))).containsExactly("e2", "e3", "e4");
        }
    }

    @Test
    void rewindRereadsWhatWasInFlight() throws IOException {
        try (Spool spool = Spool.open(dir, 64 * MIB, MIB)) {
            spool.append(Lane.EVIDENCE, record("a"));
            spool.append(Lane.EVIDENCE, record("b"));
            spool.ack(spool.next(1).get(0));
            assertThat(ids(spool.next(10))).containsExactly("b");

            spool.rewind();

            assertThat(ids(spool.next(10))).containsExactly("b");
        }
    }

    @Test
    void deletesSegmentsOnceEverythingInThemIsAcknowledged() throws IOException {
        try (Spool spool = Spool.open(dir, 64 * MIB, 4096)) {
            for (int i = 0; i < 50; i++) {
                spool.append(Lane.EVIDENCE, record("e" + i, 500));
            }
            assertThat(segments(Lane.EVIDENCE)).hasSizeGreaterThan(5);
            for (SpooledRecord r : spool.next(100)) {
                spool.ack(r);
            }
            assertThat(spool.drained()).isTrue();
            spool.persistCursors();
            assertThat(segments(Lane.EVIDENCE)).hasSize(1);
            assertThat(spool.next(10)).isEmpty();
        }
    }

    @Test
    void truncatesATornTailAndKeepsEveryWholeRecord() throws IOException {
        try (Spool spool = Spool.open(dir, 64 * MIB, MIB)) {
            for (int i = 0; i < 3; i++) {
                spool.append(Lane.EVIDENCE, record("e" + i));
            }
        }
        Path segment = segments(Lane.EVIDENCE).get(0);
        try (RandomAccessFile file = new RandomAccessFile(segment.toFile(), "rw")) {
            file.setLength(file.length() - 7);
        }
        try (Spool spool = Spool.open(dir, 64 * MIB, MIB)) {
            assertThat(ids(spool.next(10))).containsExactly("e0", "e1");
            assertThat(spool.droppedBytes()).isPositive();
            spool.append(Lane.EVIDENCE, record("after"));
            assertThat(ids(spool.next(10))).containsExactly("after");
        }
    }

    @Test
    void skipsCorruptBytesInsideASealedSegment() throws IOException {
        try (Spool spool = Spool.open(dir, 64 * MIB, 2048)) {
            for (int i = 0; i < 12; i++) {
                spool.append(Lane.EVIDENCE, record("e" + i, 300));
            }
        }
        Path first = segments(Lane.EVIDENCE).get(0);
        try (RandomAccessFile file = new RandomAccessFile(first.toFile(), "rw")) {
            file.seek(SpoolLane.HEADER_BYTES + 20);
            file.write(new byte[] {1, 2, 3, 4});
        }
        try (Spool spool = Spool.open(dir, 64 * MIB, 2048)) {
            List<String> read = ids(spool.next(100));
            assertThat(read).doesNotContain("e0").contains("e1", "e11").hasSize(11);
            assertThat(spool.droppedBytes()).isPositive();
        }
    }

    @Test
    void keepsRecordsAfterCorruptionInTheNewestSegment() throws IOException {
        try (Spool spool = Spool.open(dir, 64 * MIB, MIB)) {
            for (int i = 0; i < 6; i++) {
                spool.append(Lane.EVIDENCE, record("e" + i, 200));
            }
        }
        Path segment = segments(Lane.EVIDENCE).get(0);
        try (RandomAccessFile file = new RandomAccessFile(segment.toFile(), "rw")) {
            file.seek(SpoolLane.HEADER_BYTES + 40);
            file.write(new byte[] {9, 9, 9, 9});
        }
        try (Spool spool = Spool.open(dir, 64 * MIB, MIB)) {
            assertThat(ids(spool.next(10))).containsExactly("e1", "e2", "e3", "e4", "e5");
            assertThat(spool.droppedBytes()).isPositive();
        }
    }

    @Test
    void shedsOldestSamplesFirstAndNeverEvidence() throws IOException {
        try (Spool spool = Spool.open(dir, 64 * 1024, 8 * 1024)) {
            for (int i = 0; i < 40; i++) {
                spool.append(Lane.SAMPLES, record("s" + i, 1000));
            }
            for (int i = 0; i < 30; i++) {
                assertThat(spool.append(Lane.EVIDENCE, record("e" + i, 1000))).isTrue();
            }
            List<String> read = ids(spool.next(1000));
            assertThat(read).filteredOn(id -> id.startsWith("e")).hasSize(30);
            assertThat(read)
                    .filteredOn(id -> id.startsWith("s"))
                    .hasSizeLessThan(40)
                    .contains("s39");
            assertThat(spool.shedBytes() + spool.shedRecords()).isPositive();
        }
    }

    /** Property: any damage to the files loses at most the damaged records, and reopening never throws. */
    @Test
    void survivesRandomDamage() throws IOException {
        Random random = new Random(42);
        for (int round = 0; round < 40; round++) {
            Path roundDir = dir.resolve("round" + round);
            try (Spool spool = Spool.open(roundDir, 64 * MIB, 4096)) {
                for (int i = 0; i < 30; i++) {
                    spool.append(Lane.EVIDENCE, record("r" + i, 50 + random.nextInt(400)));
                }
            }
            List<Path> files = segmentsIn(roundDir.resolve("evidence"));
            Path victim = files.get(random.nextInt(files.size()));
            byte[] bytes = Files.readAllBytes(victim);
            if (random.nextBoolean()) {
                bytes = java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
            } else {
                for (int i = 0; i < 1 + random.nextInt(8); i++) {
                    bytes[random.nextInt(bytes.length)] ^= (byte) (1 + random.nextInt(255));
                }
            }
            Files.write(victim, bytes);
            try (Spool spool = Spool.open(roundDir, 64 * MIB, 4096)) {
                List<String> read = ids(spool.next(1000));
                assertThat(read).doesNotHaveDuplicates();
                assertThat(read).allMatch(id -> id.matches("r[0-9]+"));
                // Order is kept for what survived.
                List<Integer> numbers = new ArrayList<>(read.stream()
                        .map(id -> Integer.parseInt(id.substring(1)))
                        .toList());
                assertThat(numbers).isSorted();
            }
        }
    }

    private List<Path> segments(Lane lane) throws IOException {
        return segmentsIn(dir.resolve(lane.name().toLowerCase()));
    }

    private static List<Path> segmentsIn(Path laneDir) throws IOException {
        try (Stream<Path> files = Files.list(laneDir)) {
            return files.filter(p -> p.toString().endsWith(".seg")).sorted().toList();
        }
    }

    private static SpoolRecord record(String id) {
        return record(id, 16);
    }

    private static SpoolRecord record(String id, int valueBytes) {
        byte[] value = new byte[valueBytes];
        System.arraycopy(id.getBytes(StandardCharsets.UTF_8), 0, value, 0, Math.min(id.length(), valueBytes));
        return new SpoolRecord(
                "vigil.agent.events.v1", "vm", id, Map.of("ce_id", id.getBytes(StandardCharsets.UTF_8)), value);
    }

    private static List<String> ids(List<SpooledRecord> records) {
        return records.stream().map(r -> r.record().eventId()).toList();
    }
}
