package dev.vigil.agent.delivery;

import dev.vigil.agent.config.AgentConfig;
import dev.vigil.schemas.RecordSeals;
import dev.vigil.schemas.delivery.License;
import dev.vigil.schemas.delivery.LicenseTerms;
import dev.vigil.schemas.delivery.TrustedMetadata;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * Enforces the vendor's signed license of each installed product: a VM starts only while its product's license
 * allows it (active, or within the grace period after a lease the vendor could not renew); the lease is renewed
 * online once half of it has passed; the user is warned ahead of the end of the term; and a VM whose license is
 * revoked, expired, not yet valid or missing is stopped at the next check. Documents come verified from {@link
 * Licenses}: signed by the vendor's licenses role, for this host, never replaced by an older one.
 */
public final class LicenseGuard {

    private static final System.Logger LOG = System.getLogger(LicenseGuard.class.getName());
    /** How long before the end of a term the user is told, once a day. */
    static final Duration WARN_BEFORE = Duration.ofDays(7);

    private final AgentConfig config;
    private final PrintStream out;
    private final Clock clock;
    private final Installer installer;
    private final Licenses licenses;
    private final Map<String, Instant> warned = new HashMap<>();

    LicenseGuard(AgentConfig config, PrintStream out, Clock clock, Installer installer) {
        this.config = config;
        this.out = out;
        this.clock = clock;
        this.installer = installer;
        this.licenses = new Licenses(config.stateDir());
    }

    /** The license that lets this host run {@code product} now; refused, saying why, when there is none. */
    License admit(TrustedMetadata trusted, String product) throws DeliveryException {
        Instant now = clock.instant();
        License license = licenses.forProduct(trusted, product, config.hostId(), now);
        LicenseTerms.Standing standing = license == null ? null : LicenseTerms.standing(license, now);
        if (standing == null || !standing.allowsRunning()) {
            throw new DeliveryException(DeliveryException.Kind.REFUSED, refusal(product, license, standing, now));
        }
        return license;
    }

    /**
     * Checks every installed product's license at {@code now}: renews leases that are half gone (or in grace), warns
     * ahead of the end of a term, and stops the VMs of products whose license does not allow running. Returns what it
     * did, a line per product that needed something.
     */
    public List<String> enforce(Connect hypervisor, Instant now) throws DeliveryException {
        List<Installer.Installation> installed = installer.installations();
        List<String> done = new ArrayList<>();
        if (installed.isEmpty()) {
            return done;
        }
        TrustedMetadata trusted = new TrustStore(config.stateDir(), clock).load();
        Map<String, License> checked = new HashMap<>();
        for (Installer.Installation installation : installed) {
            License license =
                    checked.computeIfAbsent(installation.product(), product -> renewed(trusted, product, now, done));
            LicenseTerms.Standing standing = license == null ? null : LicenseTerms.standing(license, now);
            if (standing != null && standing.allowsRunning()) {
                warnAhead(license, now, done);
                continue;
            }
            String why = refusal(installation.product(), license, standing, now);
            if (stop(hypervisor, installation)) {
                say(done, "stopped VM " + installation.vmName() + ": " + why);
            }
        }
        return done;
    }

    /** Keeps a license document the vendor pushed (a renewal, an extension, a revocation) and enforces at once. */
    public String apply(Connect hypervisor, byte[] document) throws DeliveryException {
        TrustedMetadata trusted = new TrustStore(config.stateDir(), clock).load();
        License kept = licenses.keep(trusted, document, config.hostId());
        Instant now = clock.instant();
        List<String> done = enforce(hypervisor, now);
        return "license " + kept.getLicenseId() + " of " + kept.getProduct() + " is "
                + LicenseTerms.standing(kept, now) + " until " + kept.getValidUntil()
                + (done.isEmpty() ? "" : "; " + String.join("; ", done));
    }

    /** The product's license after a renewal when one is due; the held one when the vendor cannot be reached. */
    private License renewed(TrustedMetadata trusted, String product, Instant now, List<String> done) {
        License license;
        try {
            license = licenses.forProduct(trusted, product, config.hostId(), now);
        } catch (DeliveryException e) {
            say(done, "cannot read the licenses of " + product + ": " + e.getMessage());
            return null;
        }
        if (license == null || license.getRevoked() || !now.isBefore(license.getValidUntil())) {
            return license;
        }
        Instant halfLease = license.getIssuedAt()
                .plus(Duration.between(license.getIssuedAt(), license.getLeaseExpiresAt())
                        .dividedBy(2));
        if (now.isBefore(halfLease)) {
            return license;
        }
        try {
            Enrolment enrolment = Enrolment.load(config.stateDir());
            DispatchConnection dispatch = installer.dispatch().withHostToken(enrolment.hostToken());
            byte[] document = TrustStore.ok(
                    dispatch.postJson("/api/v1/agent/licenses/" + license.getLicenseId() + "/renew", Map.of()),
                    "the license renewal");
            License renewed = licenses.keep(trusted, document, config.hostId());
            say(
                    done,
                    "renewed license " + renewed.getLicenseId() + " of " + product + ": "
                            + LicenseTerms.standing(renewed, now) + ", lease until " + renewed.getLeaseExpiresAt());
            renewRecordKey(dispatch, done);
            return renewed;
        } catch (DeliveryException e) {
            LicenseTerms.Standing standing = LicenseTerms.standing(license, now);
            say(
                    done,
                    "cannot renew license " + license.getLicenseId() + " of " + product + " (" + e.getMessage()
                            + "); "
                            + (standing.allowsRunning()
                                    ? "it keeps running until "
                                            + (standing == LicenseTerms.Standing.GRACE
                                                    ? license.getGraceUntil() + ", the end of its grace period"
                                                    : license.getLeaseExpiresAt()
                                                            + " and then through its grace period")
                                    : "its lease and grace period are over"));
            return license;
        }
    }

    /**
     * Asks for this host's record key with the lease: after the deployment rotates its record-key secret, the agent
     * seals with the new epoch's key from its next renewal on (ingestion accepts the previous epoch meanwhile).
     */
    private void renewRecordKey(DispatchConnection dispatch, List<String> done) {
        try {
            DispatchConnection.Answer answer = dispatch.get("/api/v1/agent/record-key");
            if (answer.status() != 200) {
                say(done, "cannot renew this host's record key: " + answer.problem());
                return;
            }
            RecordSeals.HostKey key = RecordKeyFile.fromAnswer(answer.json(), config.hostId());
            if (!key.tenant().equals(config.tenant())) {
                say(
                        done,
                        "dispatch's record key is for tenant " + key.tenant() + ", but this agent reports as tenant "
                                + config.tenant() + ": the key stays as it was");
                return;
            }
            if (RecordKeyFile.renew(config.stateDir(), key)) {
                say(done, "renewed this host's record key: epoch " + key.epoch());
            }
        } catch (DeliveryException | IOException | IllegalArgumentException e) {
            say(done, "cannot renew this host's record key: " + e.getMessage());
        }
    }

    private void warnAhead(License license, Instant now, List<String> done) {
        Duration left = Duration.between(now, license.getValidUntil());
        if (left.compareTo(WARN_BEFORE) > 0) {
            return;
        }
        Instant last = warned.get(license.getLicenseId());
        if (last != null && Duration.between(last, now).compareTo(Duration.ofDays(1)) < 0) {
            return;
        }
        warned.put(license.getLicenseId(), now);
        say(
                done,
                "license " + license.getLicenseId() + " of " + license.getProduct() + " ends at "
                        + license.getValidUntil() + " (in " + Math.max(1, left.toHours())
                        + " h): ask the vendor to extend it");
    }

    private static String refusal(String product, License license, LicenseTerms.Standing standing, Instant now) {
        if (license == null) {
            return "this host holds no license for " + product + ": enrol again on the vendor's page";
        }
        return switch (standing) {
            case REVOKED ->
                "license " + license.getLicenseId() + " of " + product + " was revoked by the vendor"
                        + (license.getRevocationReason() == null ? "" : " (" + license.getRevocationReason() + ")");
            case NOT_YET_VALID ->
                "license " + license.getLicenseId() + " of " + product + " starts at " + license.getValidFrom();
            case EXPIRED ->
                "license " + license.getLicenseId() + " of " + product + " expired ("
                        + (now.isBefore(license.getValidUntil())
                                ? "its lease ran out at " + license.getLeaseExpiresAt()
                                        + " and the vendor could not be reached to renew it before "
                                        + license.getGraceUntil()
                                : "its term ended at " + license.getValidUntil())
                        + "): ask the vendor to extend it";
            default -> "license " + license.getLicenseId() + " of " + product + " is " + standing;
        };
    }

    /** Stops a VM now and keeps it from starting with the host; true when it was running. */
    private boolean stop(Connect hypervisor, Installer.Installation installation) {
        try {
            Domain vm = hypervisor.domainLookupByUUIDString(installation.vmUuid());
            if (vm.getAutostart()) {
                vm.setAutostart(false);
            }
            if (vm.isActive() == 1) {
                vm.destroy();
                return true;
            }
        } catch (LibvirtException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot stop VM " + installation.vmName() + ": " + e.getMessage());
        }
        return false;
    }

    private void say(List<String> done, String line) {
        done.add(line);
        out.println(line);
    }
}
