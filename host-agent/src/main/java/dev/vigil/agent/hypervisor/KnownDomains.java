package dev.vigil.agent.hypervisor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The domains this agent has reported, kept in its state directory so that a restart can tell what disappeared
 * while it was away (undefined, or lost with the hypervisor's own state): for each, an {@code UNDEFINED} change with
 * detail {@code VANISHED}, so Vigil stops listing the VM as running. One line per domain: its UUID and name.
 */
public final class KnownDomains {

    private static final System.Logger LOG = System.getLogger(KnownDomains.class.getName());

    private final Path file;
    private final Map<String, String> names = new LinkedHashMap<>();

    private KnownDomains(Path file) {
        this.file = file;
    }

    /** The domains recorded in {@code file} (none when it does not exist or cannot be read). */
    public static KnownDomains load(Path file) {
        KnownDomains known = new KnownDomains(file);
        if (Files.exists(file)) {
            try {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    int space = line.indexOf(' ');
                    if (space == 36) {
                        known.names.put(line.substring(0, space), line.substring(space + 1));
                    }
                }
            } catch (IOException e) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "cannot read " + file + " (" + e.getMessage()
                                + "): VMs that disappeared while the agent was away are not reported");
            }
        }
        return known;
    }

    /**
     * Reconciles with the domains that exist now: returns an {@code UNDEFINED}/{@code VANISHED} change for each
     * recorded domain that is not among them, and records exactly the present ones.
     */
    public synchronized List<DomainLifecycleChange> reconcile(List<DomainLifecycleChange> present, Instant now) {
        Set<String> here = present.stream().map(DomainLifecycleChange::vmUuid).collect(Collectors.toSet());
        List<DomainLifecycleChange> vanished = new ArrayList<>();
        for (Map.Entry<String, String> known : names.entrySet()) {
            if (!here.contains(known.getKey())) {
                vanished.add(new DomainLifecycleChange(
                        known.getKey(), known.getValue(), "UNDEFINED", "VANISHED", now, true));
            }
        }
        names.clear();
        present.forEach(change -> names.put(change.vmUuid(), change.vmName()));
        save();
        return vanished;
    }

    /** Keeps the record current with a change the agent reports. */
    public synchronized void record(DomainLifecycleChange change) {
        boolean changed = "UNDEFINED".equals(change.state())
                ? names.remove(change.vmUuid()) != null
                : !change.vmName().equals(names.put(change.vmUuid(), change.vmName()));
        if (changed) {
            save();
        }
    }

    /** The recorded domains' UUIDs. */
    public synchronized Set<String> uuids() {
        return Set.copyOf(names.keySet());
    }

    private void save() {
        StringBuilder text = new StringBuilder();
        names.forEach((uuid, name) ->
                text.append(uuid).append(' ').append(name.replace('\n', ' ')).append('\n'));
        try {
            Files.createDirectories(file.getParent());
            Path temp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(temp, text, StandardCharsets.UTF_8);
            try {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot write " + file + ": " + e.getMessage());
        }
    }
}
