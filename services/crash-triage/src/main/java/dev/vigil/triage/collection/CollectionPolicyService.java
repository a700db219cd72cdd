package dev.vigil.triage.collection;

import dev.vigil.schemas.common.Envelope;
import dev.vigil.schemas.crash.CollectionPolicyReason;
import dev.vigil.schemas.crash.CollectionPolicyRequest;
import dev.vigil.schemas.crash.CrashTriaged;
import dev.vigil.schemas.crash.DumpLevel;
import dev.vigil.schemas.crash.TriageKind;
import dev.vigil.triage.collection.CollectionPolicyRepository.Mode;
import dev.vigil.triage.collection.CollectionPolicyRepository.Policy;
import dev.vigil.triage.config.TriageConfig;
import dev.vigil.triage.metrics.TriageMetrics;
import dev.vigil.triage.outbox.Outbox;
import dev.vigil.triage.outbox.TriagePublisher;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import jakarta.transaction.Transactional;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Progressive collection: asks for a full memory dump from the hosts of a bucket until it has
 * {@code vigil.triage.collection.full-dumps} reports carrying one, then for none, unless an admin chose the policy.
 * Each change of a bucket's policy is one {@code COLLECTION_POLICY} request on {@code vigil.crash.triaged.v1},
 * staged in the outbox by the transaction that records it in {@code collection_policy} (so it goes out only if that
 * commits), with an event id derived from the bucket and the change's sequence number, so consumers see each change
 * once.
 */
@ApplicationScoped
public class CollectionPolicyService {

    /** Hosts and VMs named in a request; a bucket seen on more says so with {@code scopeTruncated}. */
    static final int SCOPE_LIMIT = 1000;

    static final String BELOW_TARGET = "BELOW_FULL_DUMP_TARGET";
    static final String TARGET_REACHED = "FULL_DUMP_TARGET_REACHED";
    static final String ADMIN_OVERRIDE = "ADMIN_OVERRIDE";
    /** Collection requests are about a bucket, across the enterprises whose hosts saw it. */
    private static final Logger LOG = Logger.getLogger(CollectionPolicyService.class);

    private final CollectionPolicyRepository repository;
    private final Outbox outbox;
    private final TriageMetrics metrics;
    private final Event<PolicySet> policySet;
    private final int target;

    CollectionPolicyService(
            CollectionPolicyRepository repository,
            Outbox outbox,
            TriageMetrics metrics,
            TriageConfig config,
            Event<PolicySet> policySet) {
        this.repository = repository;
        this.outbox = outbox;
        this.metrics = metrics;
        this.policySet = policySet;
        this.target = config.triage().collection().fullDumps();
    }

    /** What a bucket's policy is, for the API. */
    public record View(
            DumpPolicy dump,
            String mode,
            String reason,
            long sequence,
            long fullDumps,
            int fullDumpTarget,
            String setBy,
            Instant setAt) {}

    /**
     * In the transaction that filed a report into {@code bucket} (which holds the bucket's row locked): counts its
     * full dump, and records the policy the bucket now needs if that changed.
     *
     * @return the request to stage in the outbox, or null when nothing changed
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public CrashTriaged afterFiling(UUID bucket, boolean fullDump) throws SQLException {
        long fullDumps = repository.countFullDump(bucket, fullDump);
        Policy current = repository.policy(bucket);
        if (current != null && current.mode() == Mode.OVERRIDE) {
            return null;
        }
        Policy next = automatic(bucket, fullDumps, current);
        if (current != null && current.dump() == next.dump()) {
            return null;
        }
        repository.save(next);
        return request(next);
    }

    /**
     * In a merge's transaction: the merged bucket's hosts stop collecting for it, since its reports now count in the
     * target, whose policy rules; without this its last {@code full} request would stay live downstream.
     *
     * @return the request to stage in the outbox, or null when the bucket asked for nothing or for none
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public CrashTriaged afterMerge(UUID source, String by) throws SQLException {
        Policy current = repository.policy(source);
        if (current == null || current.dump() == DumpPolicy.NONE) {
            return null;
        }
        Policy next = new Policy(
                source,
                DumpPolicy.NONE,
                Mode.OVERRIDE,
                ADMIN_OVERRIDE,
                sequence(current) + 1,
                repository.fullDumps(source),
                by,
                Instant.now());
        repository.save(next);
        return request(next);
    }

    /**
     * In an unmerge's transaction: the bucket's policy follows its own full-dump count again (an override it had
     * before the merge is not restored).
     *
     * @return the request to stage in the outbox, or null when nothing changed
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public CrashTriaged afterUnmerge(UUID source) throws SQLException {
        Policy current = repository.policy(source);
        if (current == null) {
            return null;
        }
        Policy next = automatic(source, repository.fullDumps(source), current);
        if (current.dump() == next.dump() && current.mode() == next.mode()) {
            return null;
        }
        repository.save(next);
        return request(next);
    }

    /** Counts and logs a request once the transaction that staged it (filing, curation or an admin's) committed. */
    void published(@Observes(during = TransactionPhase.AFTER_SUCCESS) Outbox.Staged staged) {
        CrashTriaged request = staged.event();
        if (request.getKind() != TriageKind.COLLECTION_POLICY) {
            return;
        }
        CollectionPolicyRequest p = request.getCollectionPolicy();
        metrics.collectionRequested(p.getDump().name());
        LOG.infof(
                "collection policy of bucket %s: dump=%s (%s, %d/%d full dumps, change %d)",
                request.getBucketId(),
                p.getDump().name().toLowerCase(Locale.ROOT),
                p.getReason(),
                p.getFullDumps(),
                p.getFullDumpTarget(),
                p.getSequence());
    }

    /**
     * An admin sets a bucket's policy ({@code dump} non-null), or hands it back to the full-dump count
     * ({@code dump} null). A change is published as a request; setting what is already in force changes nothing.
     */
    @Transactional(rollbackOn = Exception.class)
    public View set(UUID bucket, DumpPolicy dump, String by) throws SQLException, PolicyRefusedException {
        if (!repository.lockBucket(bucket)) {
            throw new PolicyRefusedException(PolicyRefusedException.Reason.NO_SUCH_BUCKET, "no bucket " + bucket);
        }
        UUID target = repository.mergedInto(bucket);
        if (target != null) {
            throw new PolicyRefusedException(
                    PolicyRefusedException.Reason.MERGED,
                    "bucket " + bucket + " is merged into " + target
                            + ": its reports count there, set the policy of that one");
        }
        long fullDumps = repository.fullDumps(bucket);
        Policy current = repository.policy(bucket);
        Policy next = dump == null
                ? automatic(bucket, fullDumps, current)
                : new Policy(
                        bucket,
                        dump,
                        Mode.OVERRIDE,
                        ADMIN_OVERRIDE,
                        sequence(current) + 1,
                        fullDumps,
                        by,
                        Instant.now());
        if (current != null && current.dump() == next.dump() && current.mode() == next.mode()) {
            return view(bucket);
        }
        repository.save(next);
        outbox.stage(request(next));
        policySet.fire(new PolicySet(bucket, by));
        return view(next);
    }

    /** An admin's change of a bucket's policy, logged once it committed. */
    record PolicySet(UUID bucket, String by) {}

    void logSet(@Observes(during = TransactionPhase.AFTER_SUCCESS) PolicySet set) {
        LOG.infof("collection policy of bucket %s set by %s", set.bucket(), set.by());
    }

    /** A bucket's policy (null dump: nothing requested yet) and its full-dump count. */
    public View view(UUID bucket) throws SQLException {
        Policy p = repository.policy(bucket);
        if (p == null) {
            return new View(null, "auto", null, 0, repository.fullDumps(bucket), target, null, null);
        }
        return new View(
                p.dump(),
                p.mode().wire(),
                p.reason(),
                p.sequence(),
                repository.fullDumps(bucket),
                target,
                p.setBy(),
                p.setAt());
    }

    private View view(Policy p) {
        return new View(
                p.dump(), p.mode().wire(), p.reason(), p.sequence(), p.fullDumps(), target, p.setBy(), p.setAt());
    }

    private Policy automatic(UUID bucket, long fullDumps, Policy current) {
        boolean below = fullDumps < target;
        return new Policy(
                bucket,
                below ? DumpPolicy.FULL : DumpPolicy.NONE,
                Mode.AUTO,
                below ? BELOW_TARGET : TARGET_REACHED,
                sequence(current) + 1,
                fullDumps,
                null,
                Instant.now());
    }

    private static long sequence(Policy p) {
        return p == null ? 0 : p.sequence();
    }

    private CrashTriaged request(Policy p) throws SQLException {
        CollectionPolicyRepository.Scope scope = repository.scope(p.bucket(), SCOPE_LIMIT);
        // The request's content is in its identity: a publish whose commit failed leaves the sequence unchanged,
        // and a different request under the same sequence must not be dropped downstream as its duplicate.
        String identity = "triaged:collection:" + p.bucket() + "|" + p.sequence() + "|" + p.dump() + "|" + p.mode();
        Envelope envelope = TriagePublisher.envelope(identity, p.setAt());
        CollectionPolicyRequest policy = CollectionPolicyRequest.newBuilder()
                .setDump(DumpLevel.valueOf(p.dump().name()))
                .setReason(CollectionPolicyReason.valueOf(p.reason()))
                .setSequence(p.sequence())
                .setTriggers(agentTriggers(scope.triggers()))
                .setHostIds(scope.hosts())
                .setVmUuids(scope.vms())
                .setScopeTruncated(scope.truncated())
                .setFullDumps(p.fullDumps())
                .setFullDumpTarget(target)
                .setRequestedBy(p.setBy())
                .build();
        return CrashTriaged.newBuilder()
                .setEnvelope(envelope)
                .setBucketId(p.bucket().toString())
                .setKind(TriageKind.COLLECTION_POLICY)
                .setTitle(scope.title())
                .setSignatureKeys(Map.of("symbolic", scope.symbolicKey()))
                .setProduct(null)
                .setRelease(null)
                .setReportCount(scope.reports())
                .setRatePer1000VmHours(null)
                .setPreviousReleaseRate(null)
                .setCollectionPolicy(policy)
                .build();
    }

    /** Incident triggers as the agent's {@code dump.<trigger>} keys name them: crash, hang, watchdog, io-error. */
    static List<String> agentTriggers(List<String> triggers) {
        List<String> names = new ArrayList<>();
        for (String t : triggers) {
            if (!"UNKNOWN".equals(t)) {
                names.add(t.toLowerCase(Locale.ROOT).replace('_', '-'));
            }
        }
        return names;
    }
}
