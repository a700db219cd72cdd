package dev.vigil.triage.bucket;

import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.common.Envelope;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.schemas.crash.CrashTriaged;
import dev.vigil.schemas.crash.TriageKind;
import dev.vigil.triage.collection.CollectionPolicyService;
import dev.vigil.triage.collection.FullDumps;
import dev.vigil.triage.outbox.Outbox;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.TransactionSynchronizationRegistry;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.Map;
import java.util.UUID;

/**
 * Files one signed report in one transaction: the report row, its bucket's counts and roll-ups, the bucket's collection
 * policy, and the events announcing a new bucket or a policy change, staged in the outbox so they go out only if it
 * all commits.
 */
@ApplicationScoped
class FilingService {

    private final BucketRepository buckets;
    private final CollectionPolicyService collection;
    private final Outbox outbox;
    private final TransactionSynchronizationRegistry transactions;

    FilingService(
            BucketRepository buckets,
            CollectionPolicyService collection,
            Outbox outbox,
            TransactionSynchronizationRegistry transactions) {
        this.buckets = buckets;
        this.collection = collection;
        this.outbox = outbox;
        this.transactions = transactions;
    }

    /**
     * What filing did.
     *
     * @param bucket the bucket the report counts in, null when the report was stored before (nothing changed)
     * @param created whether this filing made the bucket (and announced it)
     * @param refined whether it replaced the incident's provisional report
     * @param collect the collection policy request it staged, or null
     */
    record Filing(UUID bucket, boolean created, boolean refined, CrashTriaged collect) {}

    @Transactional(rollbackOn = Exception.class)
    Filing file(
            CrashReported report, BucketRepository.NewReport row, int rulesVersion, BucketRepository.SearchFacts facts)
            throws SQLException {
        boolean refined = false;
        BucketRepository.Filed filed = buckets.insertIfAbsent(row, rulesVersion, facts);
        if (filed == null) {
            BucketRepository.Provisional was = row.provisional() ? null : buckets.provisional(row.incidentId());
            if (was == null) {
                // Stored before: whatever this transaction wrote on the way (a bucket for a key never seen) goes.
                transactions.setRollbackOnly();
                return new Filing(null, false, false, null);
            }
            filed = buckets.refine(row, rulesVersion, facts, was);
            refined = true;
            if (!filed.bucket().equals(was.bucket())) {
                buckets.countInto(row, filed.bucket());
            } // else it counts where it was filed provisionally already
        } else {
            buckets.countInto(row, filed.bucket());
        }
        UUID bucket = filed.bucket();
        if (filed.created()) {
            // Announced only if this transaction commits; the event id is derived from the bucket.
            outbox.stage(newBucket(report, row, bucket));
        }
        // Same for a change of the bucket's collection policy: its event id is bucket and change number.
        CrashTriaged collect = collection.afterFiling(bucket, FullDumps.carried(report.getArtifacts()));
        if (collect != null) {
            outbox.stage(collect);
        }
        return new Filing(bucket, filed.created(), refined, collect);
    }

    private static CrashTriaged newBucket(CrashReported report, BucketRepository.NewReport row, UUID bucket) {
        // Built field by field: Avro's deep copy (newBuilder(other)) resolves classes through a class loader that
        // is not Quarkus's and fails on generated records.
        Envelope from = report.getEnvelope();
        Envelope envelope = Envelope.newBuilder()
                .setEventId(UUID.nameUUIDFromBytes(("triaged:new:" + bucket).getBytes(StandardCharsets.UTF_8))
                        .toString())
                .setEventType(Envelopes.eventType(CrashTriaged.getClassSchema()))
                .setOccurredAt(from.getOccurredAt())
                .setSource(dev.vigil.schemas.common.Source.newBuilder()
                        .setHostId(from.getSource().getHostId())
                        .setAgentId(from.getSource().getAgentId())
                        .setAgentVersion(from.getSource().getAgentVersion())
                        .build())
                .setTenant(from.getTenant())
                .setSchemaVersion(EventCodec.of(CrashTriaged.class).currentVersion())
                .build();
        return CrashTriaged.newBuilder()
                .setEnvelope(envelope)
                .setBucketId(bucket.toString())
                .setKind(TriageKind.NEW_BUCKET)
                .setTitle(row.title())
                .setSignatureKeys(Map.of("symbolic", row.symbolicKey(), "instant", row.instantKey()))
                .setProduct(row.product())
                .setRelease(row.release())
                .setReportCount(1L)
                .setRatePer1000VmHours(null)
                .setPreviousReleaseRate(null)
                .build();
    }
}
