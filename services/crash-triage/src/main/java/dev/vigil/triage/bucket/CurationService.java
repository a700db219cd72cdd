package dev.vigil.triage.bucket;

import dev.vigil.schemas.crash.CrashTriaged;
import dev.vigil.triage.bucket.CurationException.Reason;
import dev.vigil.triage.collection.CollectionPolicyService;
import dev.vigil.triage.outbox.Outbox;
import io.quarkus.narayana.jta.runtime.TransactionConfiguration;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import jakarta.transaction.Transactional;
import java.sql.SQLException;
import java.time.Instant;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * What analysts change about buckets: admins merge one bucket into another (its reports, and every report filed
 * later under its signature, count in the target) and unmerge it again (its own reports return and both counts are
 * what they were); analysts add notes and links.
 */
@ApplicationScoped
public class CurationService {

    private static final Logger LOG = Logger.getLogger(CurationService.class);

    private final CurationRepository curation;
    private final BucketRepository buckets;
    private final CollectionPolicyService collection;
    private final Outbox outbox;
    private final Event<Curated> curated;

    CurationService(
            CurationRepository curation,
            BucketRepository buckets,
            CollectionPolicyService collection,
            Outbox outbox,
            Event<Curated> curated) {
        this.curation = curation;
        this.buckets = buckets;
        this.collection = collection;
        this.outbox = outbox;
        this.curated = curated;
    }

    /** A merge in force. */
    public record Merge(UUID source, UUID target, String mergedBy, Instant mergedAt, String reason, long moved) {}

    /** A note or a link on a bucket. */
    public record Note(long id, String kind, String text, String url, String author, Instant createdAt) {}

    /** A merge or an unmerge, logged once its transaction committed. */
    record Curated(String what, UUID source, UUID target, String by, long moved) {}

    /**
     * Merges {@code source} into {@code target}, in one transaction (it rebuilds both buckets' roll-ups, about 48 s a
     * million reports, so its limit is {@code vigil.triage.curation-timeout}, not the default 60 s). Buckets merged into the source before follow it
     * into the target; a bucket already merged cannot be merged again, nor merged into one that is merged (name its
     * target).
     */
    @Transactional(rollbackOn = Exception.class)
    @TransactionConfiguration(timeoutFromConfigProperty = "vigil.triage.curation-timeout")
    public Merge merge(UUID source, UUID target, String by, String reason) throws SQLException, CurationException {
        if (source.equals(target)) {
            throw new CurationException(Reason.SAME_BUCKET, "a bucket cannot be merged into itself");
        }
        curation.lock(source, target);
        UUID sourceTarget = buckets.mergedInto(source);
        if (sourceTarget != null) {
            throw new CurationException(
                    Reason.ALREADY_MERGED, "bucket " + source + " is already merged into " + sourceTarget);
        }
        UUID targetTarget = buckets.mergedInto(target);
        if (targetTarget != null) {
            throw new CurationException(
                    Reason.TARGET_MERGED,
                    "bucket " + target + " is merged into " + targetTarget + ": merge into that one");
        }
        Instant now = Instant.now();
        curation.merge(source, target, by, now, reason);
        long moved = curation.moveAll(source, target);
        buckets.recount(source);
        buckets.recount(target);
        stage(collection.afterMerge(source, by));
        curated.fire(new Curated("merged into", source, target, by, moved));
        return new Merge(source, target, by, now, reason, moved);
    }

    /** Undoes the merge of {@code source}, in one transaction: its own reports count in it again. */
    @Transactional(rollbackOn = Exception.class)
    @TransactionConfiguration(timeoutFromConfigProperty = "vigil.triage.curation-timeout")
    public Merge unmerge(UUID source, String by) throws SQLException, CurationException {
        Merge merge = curation.mergeOf(source);
        if (merge == null) {
            if (!curation.exists(source)) {
                throw new CurationException(Reason.NO_SUCH_BUCKET, "no bucket " + source);
            }
            throw new CurationException(Reason.NOT_MERGED, "bucket " + source + " is not merged");
        }
        UUID target = merge.target();
        curation.lock(source, target);
        Merge locked = curation.mergeOf(source);
        if (locked == null || !locked.target().equals(target)) {
            throw new CurationException(Reason.NOT_MERGED, "bucket " + source + " was unmerged meanwhile");
        }
        curation.unmerge(source);
        long moved = curation.moveBack(source, target);
        buckets.recount(source);
        buckets.recount(target);
        stage(collection.afterUnmerge(source));
        curated.fire(new Curated("unmerged from", source, target, by, moved));
        return new Merge(source, target, by, Instant.now(), null, moved);
    }

    /** The merge's policy request goes out only if the merge commits. */
    private void stage(CrashTriaged request) throws SQLException {
        if (request != null) {
            outbox.stage(request);
        }
    }

    void logCommitted(@Observes(during = TransactionPhase.AFTER_SUCCESS) Curated c) {
        LOG.infof("bucket %s %s %s by %s (%d reports)", c.source(), c.what(), c.target(), c.by(), c.moved());
    }

    /** Adds a note ({@code url} null) or a link to a bucket. */
    public Note annotate(UUID bucket, String kind, String text, String url, String author)
            throws SQLException, CurationException {
        if (!curation.exists(bucket)) {
            throw new CurationException(Reason.NO_SUCH_BUCKET, "no bucket " + bucket);
        }
        return curation.annotate(bucket, kind, text, url, author, Instant.now());
    }
}
