package dev.vigil.agent.command;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What this agent has accepted: the highest command sequence and the most recent command ids. Written durably
 * before a command runs, so a restart can neither replay nor roll back a command.
 */
final class CommandLedger {

    private static final int REMEMBERED_IDS = 1_000;

    private final Path file;
    private long lastSequence;
    private final Deque<String> recentIds = new ArrayDeque<>();
    private final Set<String> recentIdSet = new HashSet<>();

    private CommandLedger(Path file) {
        this.file = file;
    }

    static CommandLedger open(Path file) throws IOException {
        CommandLedger ledger = new CommandLedger(file);
        if (Files.exists(file)) {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            if (!lines.isEmpty()) {
                ledger.lastSequence = Long.parseLong(lines.get(0).trim());
                lines.subList(1, lines.size()).forEach(ledger::remember);
            }
        }
        return ledger;
    }

    synchronized long lastSequence() {
        return lastSequence;
    }

    synchronized boolean seen(String commandId) {
        return recentIdSet.contains(commandId);
    }

    synchronized void accept(String commandId, long sequence) throws IOException {
        lastSequence = Math.max(lastSequence, sequence);
        remember(commandId);
        StringBuilder text = new StringBuilder().append(lastSequence).append('\n');
        recentIds.forEach(id -> text.append(id).append('\n'));
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(
                tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8)));
            channel.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        // The rename itself must survive a power loss, or an older ledger could let a command run twice.
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    private void remember(String commandId) {
        if (recentIdSet.add(commandId)) {
            recentIds.addLast(commandId);
            if (recentIds.size() > REMEMBERED_IDS) {
                recentIdSet.remove(recentIds.removeFirst());
            }
        }
    }
}
