package dev.vigil.schemas;

import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.AgentSamples;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.agent.CommandBody;
import dev.vigil.schemas.agent.CommandResult;
import dev.vigil.schemas.agent.SignedCommand;
import dev.vigil.schemas.agent.UserFeedback;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.schemas.crash.CrashTriaged;
import dev.vigil.schemas.delivery.DomainDefinition;
import dev.vigil.schemas.delivery.ImageManifest;
import dev.vigil.schemas.delivery.License;
import dev.vigil.schemas.delivery.RootMetadata;
import dev.vigil.schemas.delivery.SignedMetadata;
import dev.vigil.schemas.delivery.SnapshotMetadata;
import dev.vigil.schemas.delivery.TargetsMetadata;
import dev.vigil.schemas.delivery.TimestampMetadata;
import dev.vigil.schemas.dispatch.HostRevocation;
import dev.vigil.schemas.dispatch.RolloutEvent;
import dev.vigil.schemas.energy.EnergyFinding;
import java.time.Duration;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;

/**
 * The single source of Vigil's topics: producers, consumers, the devstack and the Helm chart all read
 * names, keys, partitions and retention from here.
 */
public final class TopicCatalog {

    public static final Topic AGENT_EVENTS =
            new Topic("vigil.agent.events.v1", "vm id", 6, Duration.ofDays(14), CleanupPolicy.DELETE, AgentEvent.class);
    public static final Topic AGENT_SAMPLES = new Topic(
            "vigil.agent.samples.v1", "host id", 6, Duration.ofDays(3), CleanupPolicy.DELETE, AgentSamples.class);
    public static final Topic AGENT_ARTIFACTS = new Topic(
            "vigil.agent.artifacts.v1", "vm id", 6, Duration.ofDays(14), CleanupPolicy.DELETE, ArtifactManifest.class);
    public static final Topic AGENT_FEEDBACK = new Topic(
            "vigil.agent.feedback.v1", "vm id", 3, Duration.ofDays(30), CleanupPolicy.DELETE, UserFeedback.class);
    public static final Topic AGENT_COMMAND_RESULTS = new Topic(
            "vigil.agent.command-results.v1",
            "command id",
            3,
            Duration.ofDays(30),
            CleanupPolicy.DELETE,
            CommandResult.class);
    public static final Topic CRASH_REPORTED = new Topic(
            "vigil.crash.reported.v1", "vm id", 6, Duration.ofDays(30), CleanupPolicy.DELETE, CrashReported.class);
    public static final Topic CRASH_TRIAGED = new Topic(
            "vigil.crash.triaged.v1", "bucket id", 3, Duration.ofDays(30), CleanupPolicy.DELETE, CrashTriaged.class);
    public static final Topic ENERGY_FINDINGS = new Topic(
            "vigil.energy.findings.v1", "host id", 3, Duration.ofDays(30), CleanupPolicy.DELETE, EnergyFinding.class);
    public static final Topic DISPATCH_ROLLOUTS = new Topic(
            "vigil.dispatch.rollouts.v1",
            "rollout id",
            3,
            Duration.ofDays(90),
            CleanupPolicy.DELETE,
            RolloutEvent.class);
    /** Compacted: the latest word on each host is the revocation list ingestion holds. */
    public static final Topic DISPATCH_HOST_REVOCATIONS = new Topic(
            "vigil.dispatch.host-revocations.v1",
            "tenant/host id",
            3,
            Duration.ofDays(3650),
            CleanupPolicy.COMPACT,
            HostRevocation.class);

    public static final Topic INGESTION_DEAD_LETTER = new Topic(
            "vigil.ingestion.dead-letter.v1", "original key", 3, Duration.ofDays(30), CleanupPolicy.DELETE, null);

    private static final List<Topic> ALL = List.of(
            AGENT_EVENTS,
            AGENT_SAMPLES,
            AGENT_ARTIFACTS,
            AGENT_FEEDBACK,
            AGENT_COMMAND_RESULTS,
            CRASH_REPORTED,
            CRASH_TRIAGED,
            ENERGY_FINDINGS,
            DISPATCH_ROLLOUTS,
            DISPATCH_HOST_REVOCATIONS,
            INGESTION_DEAD_LETTER);

    /**
     * Delivery documents: served by dispatch over HTTP rather than carried on a topic, signed, and read by agents of
     * every age, so they are released and kept compatible like topic values.
     */
    private static final List<Class<? extends SpecificRecord>> DELIVERY_DOCUMENTS = List.of(
            SignedMetadata.class,
            RootMetadata.class,
            TargetsMetadata.class,
            SnapshotMetadata.class,
            TimestampMetadata.class,
            ImageManifest.class,
            License.class,
            DomainDefinition.class);

    private TopicCatalog() {}

    /** Every topic, in a stable order. */
    public static List<Topic> all() {
        return ALL;
    }

    /**
     * Every record type whose schema is a released contract: topic values, the signed commands agents fetch from
     * dispatch with the command body inside them, and the delivery documents dispatch serves.
     */
    public static List<Class<? extends SpecificRecord>> contractTypes() {
        return Stream.of(
                        ALL.stream().map(Topic::valueType).filter(t -> t != null),
                        Stream.<Class<? extends SpecificRecord>>of(SignedCommand.class, CommandBody.class),
                        DELIVERY_DOCUMENTS.stream())
                .flatMap(s -> s)
                .toList();
    }

    /** The topic with this exact name. */
    public static Topic byName(String name) {
        return ALL.stream()
                .filter(t -> t.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new NoSuchElementException("no Vigil topic named " + name));
    }
}
