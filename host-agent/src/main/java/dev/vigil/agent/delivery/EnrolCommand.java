package dev.vigil.agent.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.schemas.delivery.License;
import dev.vigil.schemas.delivery.LicenseTerms;
import dev.vigil.schemas.delivery.TrustedMetadata;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.libvirt.Connect;

/**
 * {@code vigil-agent enroll TOKEN}: enrols this host with the token from the vendor's beta page and installs what
 * the programme's channel offers, with no question asked. The token pins the vendor's root of trust (its version and
 * a prefix of its SHA-256), so the first contact with dispatch cannot be spoofed into trusting another root.
 */
public final class EnrolCommand {

    static final String USAGE = "usage: vigil-agent enroll TOKEN   (the token the vendor's beta page showed)";

    private EnrolCommand() {}

    /** Enrols and installs; returns what was installed, or null when the channel offers nothing yet. */
    public static Installer.Installation run(
            String[] args,
            AgentConfig config,
            Connect hypervisor,
            PrintStream out,
            String agentVersion,
            Clock clock,
            Deliveries deliveries)
            throws DeliveryException {
        if (args.length != 1) {
            throw new DeliveryException(DeliveryException.Kind.REFUSED, USAGE);
        }
        JsonNode redeemed = enrol(args[0], config, out, agentVersion, clock, deliveries);
        if (redeemed.path("release").isNull() || redeemed.path("release").isMissingNode()) {
            out.println("the channel offers no release yet; the agent installs one when the vendor publishes it");
            return null;
        }
        return deliveries
                .installer()
                .install(hypervisor, redeemed.path("release").asText());
    }

    /**
     * Redeems an enrolment token and keeps what dispatch gives this host: the repository's pinned root, the host
     * token, the record key and the license. Installs nothing; returns dispatch's answer.
     */
    public static JsonNode enrol(
            String token, AgentConfig config, PrintStream out, String agentVersion, Clock clock, Deliveries deliveries)
            throws DeliveryException {
        String[] parts = token.strip().split("\\.");
        if (parts.length != 4
                || !parts[0].equals("ve1")
                || !parts[3].matches("[0-9a-f]{32}")
                || !parts[2].matches("[1-9][0-9]{0,17}")) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED,
                    "that is not an enrolment token (ve1.<43 characters>.<version>.<32 hex digits>): copy it whole from"
                            + " the vendor's page");
        }
        Installer installer = deliveries.installer();
        DispatchConnection dispatch = installer.dispatch();
        out.println("enrolling host " + config.hostId() + " with " + config.dispatchUrl() + " ...");
        DispatchConnection.Answer answer = dispatch.redeem(token.strip(), config.hostId(), agentVersion);
        if (answer.status() != 200) {
            String advice = switch (answer.status()) {
                case 409 -> ": each token enrols one machine; enrol again on the vendor's page for a new one";
                case 410 -> ": enrol again on the vendor's page for a new token";
                case 404 -> ": check it was copied whole, or enrol again";
                default -> "";
            };
            throw new DeliveryException(DeliveryException.Kind.REFUSED, answer.problem() + advice);
        }
        JsonNode redeemed = answer.json();
        List<byte[]> roots = new ArrayList<>();
        redeemed.path("roots").forEach(r -> roots.add(Base64.getDecoder().decode(r.asText())));
        TrustStore store = new TrustStore(config.stateDir(), clock);
        TrustedMetadata trusted = store.pin(roots, Long.parseLong(parts[2]), parts[3]);
        new Enrolment(
                        redeemed.path("product").asText(),
                        redeemed.path("channel").asText(),
                        redeemed.path("hostToken").asText())
                .save(config.stateDir());
        JsonNode recordKey = redeemed.path("recordKey");
        if (recordKey.isObject()) {
            try {
                RecordKeyFile.save(config.stateDir(), RecordKeyFile.fromAnswer(recordKey, config.hostId()));
            } catch (IOException | IllegalArgumentException e) {
                throw new DeliveryException(
                        DeliveryException.Kind.IO, "cannot keep this host's record key: " + e.getMessage(), e);
            }
        }
        License license = new Licenses(config.stateDir())
                .keep(
                        trusted,
                        Base64.getDecoder().decode(redeemed.path("license").asText()),
                        config.hostId());
        if (config.usesEnrolmentCertificate()) {
            requestCertificate(
                    config, dispatch.withHostToken(redeemed.path("hostToken").asText()), out);
        }
        out.println("enrolled in " + redeemed.path("product").asText() + " "
                + redeemed.path("channel").asText()
                + "; license " + license.getLicenseId() + " " + LicenseTerms.standing(license, clock.instant())
                + " until " + license.getValidUntil());
        return redeemed;
    }

    /**
     * This host's first Kafka certificate. The token is spent by now, so a failure does not undo the enrolment: the
     * running agent asks again until dispatch answers.
     */
    private static void requestCertificate(AgentConfig config, DispatchConnection dispatch, PrintStream out) {
        try {
            KafkaCertificate.Validity issued = KafkaCertificate.request(config, dispatch);
            out.println(
                    issued == null
                            ? "dispatch issues no Kafka certificates: give the agent one with"
                                    + " VIGIL_AGENT_KAFKA_SSL_KEYSTORE_LOCATION"
                            : "Kafka client certificate issued until " + issued.notAfter());
        } catch (DeliveryException e) {
            out.println("no Kafka certificate yet (" + e.getMessage() + "): the agent asks again when it runs");
        }
    }
}
