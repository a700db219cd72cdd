package dev.vigil.triage.rules;

import dev.vigil.triage.signature.Signature;
import dev.vigil.triage.signature.Signatures;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
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
    /** The advisory lock one triage instance re-keys under while the others wait. */
    static final long REKEY_LOCK = 0x76696769_6c72756cL;

    private static final Logger LOG = Logger.getLogger(RulesService.class);

    private final AgroalDataSource db;
    private final RulesProvider rules;
    /** Contents (SHA-256) of the rules whose version every stored report has keys under. */
    private final Set<String> applied = ConcurrentHashMap.newKeySet();

    RulesService(AgroalDataSource db, RulesProvider rules) {
        this.db = db;
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
     *
     * @throws RulesConflictException when the rules in force say a version that was applied with other content
     *     (an edit that did not bump the version): nothing is filed under them, so no second bucket is made
     */
    public Signatures ensureCurrent() throws SQLException {
        Signatures current = rules.signatures();
        int version = current.rules().version();
        String content = current.rules().contentSha256();
        if (applied.contains(content)) {
            return current;
        }
        synchronized (this) {
            try (Connection c = db.getConnection()) {
                c.setAutoCommit(true);
                try (PreparedStatement s = c.prepareStatement("SELECT pg_advisory_lock(?)")) {
                    s.setLong(1, REKEY_LOCK);
                    s.executeQuery().close();
                }
                try {
                    RulesRepository.Applied before = RulesRepository.applied(c, version);
                    if (before == null) {
                        rekey(c, current);
                    } else if (before.sha256() == null) {
                        RulesRepository.adoptContent(c, version, content);
                    } else if (!before.sha256().equals(content)) {
                        throw new RulesConflictException(version, before.sha256(), content);
                    }
                } finally {
                    try (PreparedStatement s = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
                        s.setLong(1, REKEY_LOCK);
                        s.executeQuery().close();
                    }
                }
            }
            applied.add(content);
        }
        return current;
    }

    private void rekey(Connection c, Signatures signatures) throws SQLException {
        int version = signatures.rules().version();
        LOG.infof("signing stored reports under rules version %d", version);
        String after = null;
        long reports = 0;
        long unsignable = 0;
        while (true) {
            List<StoredReport> batch = new ArrayList<>();
            String last = RulesRepository.reports(c, version, after, BATCH, batch::add);
            if (last == null) {
                break;
            }
            c.setAutoCommit(false);
            try (PreparedStatement insert = c.prepareStatement(RulesRepository.INSERT_KEY)) {
                for (StoredReport r : batch) {
                    if (r.currentKey() != null) {
                        continue;
                    }
                    Signature s = ReportSigner.sign(r, signatures);
                    if (s == null) {
                        unsignable++;
                        continue;
                    }
                    RulesRepository.addKey(insert, r.incidentId(), version, s.instantKey(), s.symbolicKey(), s.title());
                }
                insert.executeBatch();
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
            reports += batch.size();
            after = last;
        }
        c.setAutoCommit(false);
        try {
            int mapped = RulesRepository.mapKeys(c, version);
            RulesRepository.markApplied(c, version, signatures.rules().contentSha256(), reports, unsignable);
            c.commit();
            LOG.infof(
                    "rules version %d in force: %d stored reports signed (%d without enough stored facts), %d new keys"
                            + " mapped to existing buckets",
                    version, reports, unsignable, mapped);
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /** Signs up to {@code limit} stored reports after {@code after} under the rules in force and the candidate. */
    public DryRun dryRun(Signatures candidate, String after, int limit) throws SQLException {
        Signatures current = rules.signatures();
        RulesDryRun run = new RulesDryRun(current, candidate);
        try (Connection c = db.getConnection()) {
            // One more than asked: whether more remain decides truncated without a count of the table.
            List<StoredReport> extra = new ArrayList<>(1);
            int[] seen = {0};
            String[] lastTaken = {null};
            RulesRepository.reports(c, current.rules().version(), after, limit + 1, r -> {
                if (seen[0]++ < limit) {
                    run.add(r);
                    lastTaken[0] = r.incidentId();
                } else {
                    extra.add(r);
                }
            });
            RulesDryRun.Outcome outcome = run.outcome();
            var titles = RulesRepository.titles(
                    c,
                    outcome.moves().stream()
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
    }
}
