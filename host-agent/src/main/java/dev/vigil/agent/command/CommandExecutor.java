package dev.vigil.agent.command;

import dev.vigil.agent.capture.SnapshotRelaunch;
import dev.vigil.agent.delivery.Deliveries;
import dev.vigil.agent.delivery.DeliveryException;
import dev.vigil.agent.delivery.Installer;
import dev.vigil.agent.hypervisor.TrustedSnapshots;
import dev.vigil.schemas.agent.CommandBody;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Map;
import java.util.Properties;
import java.util.function.IntSupplier;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * Carries out verified commands on the hypervisor. Snapshots the agent takes are named {@code vigil-<time>} and
 * count as trusted; "the last trusted snapshot" is the newest of those.
 */
final class CommandExecutor {

    static final String TRUSTED_PREFIX = TrustedSnapshots.TRUSTED_PREFIX;
    private static final DateTimeFormatter SNAPSHOT_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'");

    private final Clock clock;
    private final Path policyFile;
    private final IntSupplier report;
    private final SnapshotRelaunch snapshots;
    private final Deliveries deliveries;

    /** @param deliveries installs and licenses of the enrolled product; null when this host takes no deliveries */
    CommandExecutor(Clock clock, Path policyFile, Path snapshotDir, IntSupplier report, Deliveries deliveries) {
        this.clock = clock;
        this.snapshots = new SnapshotRelaunch(snapshotDir, clock);
        this.policyFile = policyFile;
        this.report = report;
        this.deliveries = deliveries;
    }

    /** Runs the command; returns what was done, or throws with what went wrong. */
    String execute(Connect hypervisor, CommandBody command)
            throws LibvirtException, IOException, CommandFailedException {
        Map<String, String> args = command.getArguments();
        return switch (command.getAction()) {
            case TAKE_SNAPSHOT -> "took snapshot " + takeSnapshot(domain(hypervisor, command), args.get("snapshot"));
            case REVERT_TO_SNAPSHOT ->
                "reverted to " + revert(domain(hypervisor, command), args.get("snapshot"), false);
            case RELAUNCH_FROM_SNAPSHOT ->
                "relaunched from " + revert(domain(hypervisor, command), args.get("snapshot"), true);
            case SUSPEND -> {
                domain(hypervisor, command).suspend();
                yield "suspended";
            }
            case SHUTDOWN -> {
                domain(hypervisor, command).shutdown();
                yield "shutdown requested";
            }
            case REPORT -> "reported " + report.getAsInt() + " domains";
            case SET_COLLECTION_POLICY -> {
                writePolicy(args);
                yield "collection policy set: " + args;
            }
            case INSTALL -> install(hypervisor, args.get("release"));
            case RENEW_LICENSE -> renewLicense(hypervisor, args.get("license"));
            case UPDATE ->
                delivery(() -> deliveries()
                        .updates()
                        .update(
                                hypervisor,
                                args.get("product"),
                                args.get("release"),
                                "fresh".equals(args.get("overlay"))));
            case ROLL_BACK ->
                delivery(() -> deliveries()
                        .updates()
                        .rollBack(
                                hypervisor,
                                args.get("product"),
                                args.get("release"),
                                args.get("from"),
                                args.getOrDefault(
                                        "reason",
                                        args.containsKey("rolloutId")
                                                ? "the vendor halted rollout " + args.get("rolloutId")
                                                : "the vendor asked")));
            case INTERRUPT ->
                delivery(() -> deliveries()
                        .interrupt(
                                hypervisor,
                                command.getVm() == null ? null : command.getVm().getUuid(),
                                args.get("product"),
                                args.get("reason")));
            case CHECK_CONFORMITY ->
                delivery(() -> {
                    var found = deliveries()
                            .checkConformity(
                                    command.getVm() == null
                                            ? null
                                            : command.getVm().getUuid());
                    return "checked " + found.size() + " VMs: "
                            + found.stream()
                                    .map(c -> c.getRelease() + " " + c.getVerdict())
                                    .toList();
                });
            default ->
                throw new CommandFailedException("action " + command.getAction() + " is not known to this agent");
        };
    }

    @FunctionalInterface
    private interface DeliveryStep {
        String run() throws DeliveryException, CommandFailedException;
    }

    private static String delivery(DeliveryStep step) throws CommandFailedException {
        try {
            return step.run();
        } catch (DeliveryException e) {
            throw new CommandFailedException(e.kind() + ": " + e.getMessage());
        }
    }

    private String install(Connect hypervisor, String release) throws CommandFailedException {
        try {
            Installer.Installation done = deliveries().installer().install(hypervisor, release);
            return "installed " + done.product() + " " + done.release() + " as VM " + done.vmName() + " ("
                    + done.vmUuid() + ")";
        } catch (DeliveryException e) {
            throw new CommandFailedException(e.kind() + ": " + e.getMessage());
        }
    }

    private String renewLicense(Connect hypervisor, String document) throws CommandFailedException {
        if (document == null || document.isBlank()) {
            throw new CommandFailedException("RENEW_LICENSE needs the license document (argument license)");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(document.strip());
        } catch (IllegalArgumentException e) {
            throw new CommandFailedException("the license argument is not base64");
        }
        try {
            return deliveries().guard().apply(hypervisor, bytes);
        } catch (DeliveryException e) {
            throw new CommandFailedException(e.kind() + ": " + e.getMessage());
        }
    }

    private Deliveries deliveries() throws CommandFailedException {
        if (deliveries == null) {
            throw new CommandFailedException(
                    "this host takes no deliveries: VIGIL_AGENT_DISPATCH_URL is not set and it never enrolled");
        }
        return deliveries;
    }

    String takeSnapshot(Domain domain, String requestedName) throws LibvirtException {
        String name = requestedName == null || requestedName.isBlank()
                ? TRUSTED_PREFIX + SNAPSHOT_TIME.format(clock.instant().atZone(java.time.ZoneOffset.UTC))
                : requestedName;
        domain.snapshotCreateXML("<domainsnapshot><name>" + escape(name) + "</name></domainsnapshot>");
        return name;
    }

    private String revert(Domain domain, String requestedName, boolean relaunch)
            throws LibvirtException, IOException, CommandFailedException {
        String name = requestedName == null || requestedName.isBlank() ? lastTrusted(domain) : requestedName;
        try {
            domain.snapshotLookupByName(name);
        } catch (LibvirtException e) {
            throw new CommandFailedException("VM " + domain.getName() + " has no snapshot named " + name);
        }
        snapshots.revert(domain, name, relaunch);
        return name;
    }

    private static String lastTrusted(Domain domain) throws LibvirtException, CommandFailedException {
        return TrustedSnapshots.last(domain)
                .orElseThrow(() -> new CommandFailedException(
                        "VM " + safeName(domain) + " has no trusted (vigil-) snapshot to return to"));
    }

    private static Domain domain(Connect hypervisor, CommandBody command) throws CommandFailedException {
        if (command.getVm() == null) {
            throw new CommandFailedException(command.getAction() + " needs a VM");
        }
        try {
            return hypervisor.domainLookupByUUIDString(command.getVm().getUuid());
        } catch (LibvirtException e) {
            throw new CommandFailedException(
                    "no VM with UUID " + command.getVm().getUuid() + " on this host");
        }
    }

    private void writePolicy(Map<String, String> args) throws IOException {
        Properties policy = new Properties();
        policy.putAll(args);
        Files.createDirectories(policyFile.getParent());
        try (OutputStream out = Files.newOutputStream(policyFile)) {
            policy.store(out, "Evidence collection policy set by a signed command");
        }
    }

    private static String safeName(Domain domain) {
        try {
            return domain.getName();
        } catch (LibvirtException e) {
            return "?";
        }
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
