package dev.vigil.triage.rules;

import dev.vigil.triage.signature.Signature;
import dev.vigil.triage.signature.Signatures;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Keeps buckets across rules versions and answers dry runs of candidate rules. When a rules version comes into
 * force, every stored report is signed again under it (from its stored facts) before the next report is filed,
 * its keys stored in {@code report_key}, and each new key mapped in {@code bucket_key} to the bucket of the reports
 * that sign to it: later reports with that key land in that bucket, so a rules change never splits one.
 */
@ApplicationScoped
public class RulesService {

    /** Reports signed per transaction while re-keying. */
    static final int BATCH = 1000;

    private static final Logger LOG = Logger.getLogger(RulesService.class);
    /** Mapping every stored report's keys to its bucket is one statement: minutes on a large database. */
    private static final int REKEY_TIMEOUT_SECONDS = 1800;

    private final RulesRepository repository;
    private final RulesProvider rules;
    /** Contents (SHA-256) of the rules whose version every stored report has keys under. */
    private final Set<String> applied = ConcurrentHashMap.newKeySet();

    RulesService(RulesRepository repository, RulesProvider rules) {
        this.repository = repository;
        this.rules = rules;
    }

    /** A dry run's answer for one page of reports. */
    public record DryRun(
            int currentVersion,
            int candidateVersion,
            RulesDryRun.Outcome outcome,
            Map<java.util.UUID, String> bucketTitles,
            boolean truncated,
            String next) {}

    /**
     * Makes sure every stored report has keys under the rules in force, and returns those rules. Filing calls this
     * first, so the first report under a new version waits for the re-keying (about 9,000 reports a second a core).
     * Outside any transaction: re-keying commits a transaction per batch, under a lock held across them.
     *
     * @throws RulesConflictException when the rules in force say a version that was applied with other content
     *     (an edit that did not bump the version): nothing is filed under them, so no second bucket is made
     */
    @Transactional(Transactional.TxType.NOT_SUPPORTED)
    public Signatures ensureCurrent() throws SQLException {
        Signatures current = rules.signatures();
        int version = current.rules().version();
        String content = current.rules().contentSha256();
        if (applied.contains(content)) {
            return current;
        }
        synchronized (this) {
            repository.underRekeyLock(() -> {
                RulesRepository.Applied before = repository.applied(version);
                if (before == null) {
                    rekey(current);
                } else if (before.sha256() == null) {
                    repository.adoptContent(version, content);
                } else if (!before.sha256().equals(content)) {
                    throw new RulesConflictException(version, before.sha256(), content);
                }
            });
            applied.add(content);
        }
        return current;
    }

    private void rekey(Signatures signatures) {
        int version = signatures.rules().version();
        LOG.infof("signing stored reports under rules version %d", version);
        String after = null;
        long reports = 0;
        long unsignable = 0;
        while (true) {
            String from = after;
            Signed batch = QuarkusTransaction.requiringNew().call(() -> sign(signatures, from));
            if (batch.last() == null) {
                break;
            }
            reports += batch.read();
            unsignable += batch.unsignable();
            after = batch.last();
        }
        long signed = reports;
        long without = unsignable;
        int mapped = QuarkusTransaction.requiringNew()
                .timeout(REKEY_TIMEOUT_SECONDS)
                .call(() -> {
                    int keys = repository.mapKeys(version);
                    repository.markApplied(version, signatures.rules().contentSha256(), signed, without);
                    return keys;
                });
        LOG.infof(
                "rules version %d in force: %d stored reports signed (%d without enough stored facts), %d new keys"
                        + " mapped to existing buckets",
                version, reports, unsignable, mapped);
    }

    /** In a transaction of its own: signs the next {@link #BATCH} stored reports after {@code after} and stores their keys. */
    private Signed sign(Signatures signatures, String after) throws SQLException {
        int version = signatures.rules().version();
        List<StoredReport> batch = new ArrayList<>();
        String last = repository.reports(version, after, BATCH, batch::add);
        if (last == null) {
            return new Signed(null, 0, 0);
        }
        List<RulesRepository.ReportKey> keys = new ArrayList<>();
        long unsignable = 0;
        for (StoredReport r : batch) {
            if (r.currentKey() != null) {
                continue;
            }
            Signature s = ReportSigner.sign(r, signatures);
            if (s == null) {
                unsignable++;
                continue;
            }
            keys.add(new RulesRepository.ReportKey(r.incidentId(), s.instantKey(), s.symbolicKey(), s.title()));
        }
        repository.addKeys(version, keys);
        return new Signed(last, batch.size(), unsignable);
    }

    /**
     * Signs up to {@code limit} stored reports after {@code after} under the rules in force and the candidate, in one
     * transaction that reads them through a cursor.
     */
    @Transactional
    public DryRun dryRun(Signatures candidate, String after, int limit) throws SQLException {
        Signatures current = rules.signatures();
        RulesDryRun run = new RulesDryRun(current, candidate);
        // One more than asked: whether more remain decides truncated without a count of the table.
        List<StoredReport> extra = new ArrayList<>(1);
        int[] seen = {0};
        String[] lastTaken = {null};
        repository.reports(current.rules().version(), after, limit + 1, r -> {
            if (seen[0]++ < limit) {
                run.add(r);
                lastTaken[0] = r.incidentId();
            } else {
                extra.add(r);
            }
        });
        RulesDryRun.Outcome outcome = run.outcome();
        var titles = repository.titles(outcome.moves().stream()
                .map(RulesDryRun.Move::fromBucket)
                .distinct()
                .toList());
        boolean truncated = !extra.isEmpty();
        return new DryRun(
                current.rules().version(),
                candidate.rules().version(),
                outcome,
                titles,
                truncated,
                truncated ? lastTaken[0] : null);
    }

    /** What one re-keying batch did: the last incident id read (null when none was left), reports read, unsignable. */
    private record Signed(String last, long read, long unsignable) {}
}
