package dev.vigil.dispatch.service;

import dev.vigil.dispatch.domain.DomainTemplate;
import dev.vigil.dispatch.domain.Enrolment;
import dev.vigil.dispatch.domain.Host;
import dev.vigil.dispatch.domain.Release;
import dev.vigil.dispatch.domain.ReleaseState;
import dev.vigil.dispatch.domain.TemplateException;
import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.persistence.HostRepository;
import dev.vigil.dispatch.persistence.ReleaseRepository;
import dev.vigil.schemas.delivery.DomainDefinition;
import dev.vigil.schemas.delivery.MetadataSigning;
import dev.vigil.schemas.delivery.ParameterValue;
import dev.vigil.schemas.delivery.Role;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Renders one user's VM from a published release's domain template and the user's parameters (chosen at enrolment,
 * overridden by the agent's request), signed by the targets role: per-user configuration happens here, not by hand
 * on the user's machine.
 */
@ApplicationScoped
public class DomainService {

    private final Database db;
    private final RepositoryService repository;
    private final RolloutCohorts cohorts;
    private final EnrolmentService enrolments;
    private final MeterRegistry metrics;
    private final Clock clock = Clock.systemUTC();

    DomainService(
            Database db,
            RepositoryService repository,
            RolloutCohorts cohorts,
            EnrolmentService enrolments,
            MeterRegistry metrics) {
        this.db = db;
        this.repository = repository;
        this.cohorts = cohorts;
        this.enrolments = enrolments;
        this.metrics = metrics;
    }

    /**
     * The signed definition of a VM of {@code release} (null: the release the host should run) for {@code hostId}.
     *
     * @param vmUuid the VM's UUID to keep (an update of an installed VM), or null for a new one
     */
    public byte[] render(String hostId, String release, String vmName, String vmUuid, Map<String, String> overrides) {
        return db.read(c -> {
            Host host = HostRepository.find(c, hostId);
            if (host == null) {
                throw RefusedException.notFound("Unknown host", "host " + hostId + " is not enrolled");
            }
            String version = release == null || release.isBlank() ? cohorts.releaseFor(c, host) : release;
            if (version == null) {
                throw RefusedException.conflict(
                        "Nothing to install",
                        "channel " + host.channel() + " of " + host.product() + " offers no release yet");
            }
            Release found = ReleaseRepository.find(c, host.product(), version, false);
            if (found == null || found.state() != ReleaseState.PUBLISHED) {
                throw RefusedException.notFound(
                        "Unknown release", host.product() + " has no published release " + version);
            }
            Map<String, String> values = new LinkedHashMap<>();
            Enrolment enrolment = enrolments.enrolmentOf(c, host);
            if (enrolment != null) {
                // What the user chose at enrolment, for the parameters this release still has; a value it no longer
                // allows falls back to the release's default rather than making the VM impossible to install.
                for (var parameter : found.parameters()) {
                    String chosen = enrolment.parameters().get(parameter.name());
                    if (chosen != null && parameter.valueProblem(chosen) == null) {
                        values.put(parameter.name(), chosen);
                    }
                }
            }
            if (overrides != null) {
                values.putAll(overrides);
            }
            String uuid = vmUuid == null || vmUuid.isBlank() ? UUID.randomUUID().toString() : checkedUuid(vmUuid);
            String name =
                    vmName == null || vmName.isBlank() ? host.product().toLowerCase(java.util.Locale.ROOT) : vmName;
            DomainTemplate.Rendered rendered;
            try {
                rendered = DomainTemplate.render(
                        found.domainTemplate(), found.parameters(), values, host.product(), version, name, uuid);
            } catch (TemplateException e) {
                throw RefusedException.unprocessable("Cannot render the domain", e.getMessage());
            }
            List<ParameterValue> parameters = new ArrayList<>();
            new java.util.TreeMap<>(rendered.parameters())
                    .forEach((k, v) -> parameters.add(
                            ParameterValue.newBuilder().setName(k).setValue(v).build()));
            DomainDefinition definition = DomainDefinition.newBuilder()
                    .setProduct(host.product())
                    .setRelease(version)
                    .setTemplateSha256(found.templateSha256())
                    .setHostId(hostId)
                    .setVmUuid(uuid)
                    .setVmName(name)
                    .setParameters(parameters)
                    .setDomainXml(rendered.xml())
                    .setIssuedAt(clock.instant())
                    .build();
            metrics.counter("vigil.dispatch.domains.rendered").increment();
            return MetadataSigning.sign(definition, Role.TARGETS, repository.signers(c, Role.TARGETS));
        });
    }

    private static String checkedUuid(String text) {
        try {
            return UUID.fromString(text).toString();
        } catch (IllegalArgumentException e) {
            throw RefusedException.badRequest("Bad VM UUID", "vmUuid must be a UUID");
        }
    }
}
