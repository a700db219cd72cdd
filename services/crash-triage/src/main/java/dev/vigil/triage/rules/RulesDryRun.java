package dev.vigil.triage.rules;

import dev.vigil.triage.signature.Signature;
import dev.vigil.triage.signature.Signatures;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What candidate rules would change about stored reports, changing nothing: each report is signed again under the
 * rules in force and under the candidate, and it moves when the two group it differently (their symbolic texts,
 * what keys hash, differ; keys themselves always differ between versions). Moves are counted per pair of the
 * bucket a report counts in and the candidate group it would form, with a few incident ids each.
 */
public final class RulesDryRun {

    /** Incident ids kept per pair. */
    public static final int SAMPLE = 5;
    /** Pairs answered, most reports first. */
    public static final int MAX_MOVES = 200;

    private final Signatures current;
    private final Signatures candidate;
    private final Map<Pair, Move> moves = new HashMap<>();
    private long scanned;
    private long moved;
    private long unsignable;
    private long mismatched;

    public RulesDryRun(Signatures current, Signatures candidate) {
        this.current = current;
        this.candidate = candidate;
    }

    /**
     * Reports moving from one bucket into one candidate group.
     *
     * @param toKey the group's symbolic key under the candidate
     * @param toSymbolic what that key hashes, readable
     * @param sample up to {@link #SAMPLE} incident ids
     */
    public record Move(
            UUID fromBucket, String toKey, String toTitle, String toSymbolic, long reports, List<String> sample) {}

    /**
     * The outcome for the reports given.
     *
     * @param unsignable reports whose stored facts do not make a signature (they cannot move)
     * @param mismatched reports whose stored facts, signed under the rules in force, do not give their stored key
     * @param movesTruncated true when more pairs moved than {@code moves} lists
     */
    public record Outcome(
            long scanned, long moved, long unsignable, long mismatched, List<Move> moves, boolean movesTruncated) {}

    public void add(StoredReport report) {
        scanned++;
        Signature now = ReportSigner.sign(report, current);
        Signature next = ReportSigner.sign(report, candidate);
        if (now == null || next == null) {
            unsignable++;
            return;
        }
        if (report.currentKey() != null && !report.currentKey().equals(now.symbolicKey())) {
            mismatched++;
        }
        if (now.symbolicText().equals(next.symbolicText())) {
            return;
        }
        moved++;
        Pair pair = new Pair(report.bucket(), next.symbolicKey());
        Move m = moves.get(pair);
        List<String> sample = m == null ? new ArrayList<>() : new ArrayList<>(m.sample());
        if (sample.size() < SAMPLE) {
            sample.add(report.incidentId());
        }
        moves.put(
                pair,
                new Move(
                        report.bucket(),
                        next.symbolicKey(),
                        next.title(),
                        next.symbolicText(),
                        m == null ? 1 : m.reports() + 1,
                        List.copyOf(sample)));
    }

    public Outcome outcome() {
        List<Move> sorted = moves.values().stream()
                .sorted(Comparator.comparingLong(Move::reports)
                        .reversed()
                        .thenComparing(m -> m.fromBucket().toString())
                        .thenComparing(Move::toKey))
                .toList();
        return new Outcome(
                scanned,
                moved,
                unsignable,
                mismatched,
                sorted.subList(0, Math.min(MAX_MOVES, sorted.size())),
                sorted.size() > MAX_MOVES);
    }

    private record Pair(UUID bucket, String toKey) {}
}
