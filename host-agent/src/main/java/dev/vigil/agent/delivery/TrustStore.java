package dev.vigil.agent.delivery;

import dev.vigil.schemas.delivery.MetadataException;
import dev.vigil.schemas.delivery.MetadataSigning;
import dev.vigil.schemas.delivery.SnapshotMetadata;
import dev.vigil.schemas.delivery.TimestampMetadata;
import dev.vigil.schemas.delivery.TrustedMetadata;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What this agent trusts of the vendor's repository, kept under {@code delivery/trust} so a restart trusts exactly
 * what it trusted before (never less: a rolled-back document is still refused), and brought up to date the way The
 * Update Framework's clients do: the root first (each next version until there is none), then the timestamp, the
 * snapshot it pins, and the product's targets the snapshot pins.
 */
public final class TrustStore {

    private final Path dir;
    private final Clock clock;

    public TrustStore(Path stateDir, Clock clock) {
        this.dir = stateDir.resolve("delivery").resolve("trust");
        this.clock = clock;
    }

    /**
     * Pins the root an enrolment token vouches for, then follows the root chain dispatch gave with it.
     *
     * @param chain signed roots, the first at the token's root version
     */
    public TrustedMetadata pin(List<byte[]> chain, long version, String sha256Prefix) throws DeliveryException {
        if (chain.isEmpty()) {
            throw new DeliveryException(DeliveryException.Kind.UNTRUSTED, "dispatch sent no root of trust");
        }
        byte[] first = chain.get(0);
        if (!MetadataSigning.sha256(first).startsWith(sha256Prefix)) {
            throw new DeliveryException(
                    DeliveryException.Kind.UNTRUSTED,
                    "the root dispatch sent is not the one the enrolment token names: someone is between this"
                            + " machine and the vendor; enrol again from the vendor's page over a network you trust");
        }
        try {
            TrustedMetadata trusted = TrustedMetadata.pin(first, clock);
            if (trusted.root().getVersion() != version) {
                throw new DeliveryException(
                        DeliveryException.Kind.UNTRUSTED, "the root dispatch sent is not version " + version);
            }
            for (byte[] next : chain.subList(1, chain.size())) {
                trusted.updateRoot(next);
            }
            save(trusted);
            return trusted;
        } catch (MetadataException e) {
            throw untrusted(e);
        }
    }

    /** What was trusted before, or a refusal when this host never enrolled. */
    public TrustedMetadata load() throws DeliveryException {
        Path root = dir.resolve("root.bin");
        if (!Files.exists(root)) {
            throw new DeliveryException(
                    DeliveryException.Kind.NOT_CONFIGURED, "this host is not enrolled: run vigil-agent enroll TOKEN");
        }
        try {
            List<byte[]> targets = new ArrayList<>();
            Path targetsDir = dir.resolve("targets");
            if (Files.isDirectory(targetsDir)) {
                try (Stream<Path> files = Files.list(targetsDir)) {
                    for (Path file : files.sorted().toList()) {
                        targets.add(Files.readAllBytes(file));
                    }
                }
            }
            return TrustedMetadata.restore(
                    Files.readAllBytes(root), read("timestamp.bin"), read("snapshot.bin"), targets, clock);
        } catch (MetadataException e) {
            throw untrusted(e);
        } catch (IOException e) {
            throw new DeliveryException(DeliveryException.Kind.IO, "cannot read " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Brings what is trusted up to date for {@code product} from dispatch, and keeps it. */
    public TrustedMetadata refresh(TrustedMetadata trusted, DispatchConnection dispatch, String product)
            throws DeliveryException {
        try {
            while (true) {
                DispatchConnection.Answer next = dispatch.get(
                        "/api/v1/agent/repository/root/" + (trusted.root().getVersion() + 1));
                if (next.status() == 404) {
                    break;
                }
                trusted.updateRoot(ok(next, "the next root"));
            }
            TimestampMetadata timestamp =
                    trusted.updateTimestamp(ok(dispatch.get("/api/v1/agent/repository/timestamp"), "the timestamp"));
            SnapshotMetadata snapshot = trusted.updateSnapshot(ok(
                    dispatch.get("/api/v1/agent/repository/snapshot/"
                            + timestamp.getSnapshot().getVersion()),
                    "the snapshot"));
            long targetsVersion = snapshot.getTargets().stream()
                    .filter(f -> f.getName().equals(product))
                    .findFirst()
                    .orElseThrow(() -> new DeliveryException(
                            DeliveryException.Kind.REFUSED, "the vendor's repository lists no product " + product))
                    .getVersion();
            trusted.updateTargets(ok(
                    dispatch.get("/api/v1/agent/repository/targets/" + product + "/" + targetsVersion),
                    "the targets of " + product));
            save(trusted);
            return trusted;
        } catch (MetadataException e) {
            throw untrusted(e);
        }
    }

    static DeliveryException untrusted(MetadataException e) {
        String advice = switch (e.problem()) {
            case EXPIRED ->
                ": the vendor's repository stopped updating, or this machine's clock is wrong"
                        + " (check it); nothing was installed";
            case ROLLED_BACK, MISMATCHED ->
                ": dispatch served older or mixed documents, which is what an"
                        + " attacker replaying old releases would do; nothing was installed";
            default -> ": the document was not signed by the vendor's keys; nothing was installed";
        };
        return new DeliveryException(
                DeliveryException.Kind.UNTRUSTED,
                "signed metadata refused (" + e.problem() + ", " + e.getMessage() + ")" + advice,
                e);
    }

    static byte[] ok(DispatchConnection.Answer answer, String what) throws DeliveryException {
        if (answer.status() != 200) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED, "dispatch did not give " + what + ": " + answer.problem());
        }
        return answer.body();
    }

    private void save(TrustedMetadata trusted) throws DeliveryException {
        try {
            Files.createDirectories(dir.resolve("targets"));
            write(dir.resolve("root.bin"), trusted.rootBytes());
            if (trusted.timestampBytes() != null) {
                write(dir.resolve("timestamp.bin"), trusted.timestampBytes());
            }
            if (trusted.snapshotBytes() != null) {
                write(dir.resolve("snapshot.bin"), trusted.snapshotBytes());
            }
            for (byte[] document : trusted.targetsBytes()) {
                write(dir.resolve("targets").resolve(MetadataSigning.sha256(document) + ".bin"), document);
            }
            // Keep only the targets documents trusted now.
            List<String> current = trusted.targetsBytes().stream()
                    .map(d -> MetadataSigning.sha256(d) + ".bin")
                    .toList();
            try (Stream<Path> files = Files.list(dir.resolve("targets"))) {
                for (Path file : files.toList()) {
                    if (!current.contains(file.getFileName().toString())) {
                        Files.delete(file);
                    }
                }
            }
        } catch (IOException e) {
            throw new DeliveryException(DeliveryException.Kind.IO, "cannot write " + dir + ": " + e.getMessage(), e);
        }
    }

    private byte[] read(String name) throws IOException {
        Path file = dir.resolve(name);
        return Files.exists(file) ? Files.readAllBytes(file) : null;
    }

    static void write(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(
                tmp,
                file,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
