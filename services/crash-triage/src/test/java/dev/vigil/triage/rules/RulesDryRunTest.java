package dev.vigil.triage.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vigil.triage.evidence.KernelReport;
import dev.vigil.triage.evidence.LinuxConsoleParser;
import dev.vigil.triage.signature.InvalidRulesException;
import dev.vigil.triage.signature.Signature;
import dev.vigil.triage.signature.SignatureRules;
import dev.vigil.triage.signature.Signatures;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Dry runs over the labelled corpus, stored as filing stores reports (facts as JSON, keys under the rules in force):
 * re-signing from what is stored must reproduce every stored key, and a candidate moves exactly the reports its
 * change touches.
 */
class RulesDryRunTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theRulesInForceSignEveryStoredCorpusReportToItsOwnKeyAndMoveNothing() throws IOException {
        Signatures current = new Signatures(SignatureRules.current());
        List<StoredReport> stored = corpus(current);
        for (StoredReport r : stored) {
            Signature again = ReportSigner.sign(r, current);
            assertThat(again).as(r.incidentId()).isNotNull();
            assertThat(again.symbolicKey()).as(r.incidentId()).isEqualTo(r.currentKey());
        }

        RulesDryRun run = new RulesDryRun(current, current);
        stored.forEach(run::add);
        RulesDryRun.Outcome outcome = run.outcome();

        assertThat(outcome.scanned()).isEqualTo(stored.size()).isGreaterThan(250);
        assertThat(outcome.moved()).isZero();
        assertThat(outcome.unsignable()).isZero();
        assertThat(outcome.mismatched()).isZero();
        assertThat(outcome.moves()).isEmpty();
    }

    @Test
    void aCandidateThatSkipsIputMovesExactlyTheTwoReportsThatBlameIt() throws Exception {
        Signatures current = new Signatures(SignatureRules.current());
        // The first 29 reports of the corpus (numbered 001-029).
        List<StoredReport> stored = corpus(current).stream()
                .filter(r -> r.incidentId().matches("\\d{3}-.*"))
                .toList();
        ObjectNode rules = shippedRules();
        int next = rules.get("version").asInt() + 1;
        rules.put("version", next);
        ((ArrayNode) rules.get("skipFrames")).add("iput");
        Signatures candidate = new Signatures(SignatureRules.parse(rules));

        RulesDryRun run = new RulesDryRun(current, candidate);
        stored.forEach(run::add);
        RulesDryRun.Outcome outcome = run.outcome();

        // Only 013 and 014 mention iput at all; both blame it, so both move, out of the bucket they share.
        assertThat(outcome.moved()).isEqualTo(2);
        Set<String> moved = new HashSet<>();
        outcome.moves().forEach(m -> moved.addAll(m.sample()));
        assertThat(moved)
                .containsExactlyInAnyOrder(
                        "013-kernel-bug-iput-arm64-next-20230517.txt",
                        "014-kernel-bug-iput-arm64-stable-6.4.4-rc1.txt");
        UUID iputBucket = bucketOf(stored, "013-kernel-bug-iput-arm64-next-20230517.txt");
        assertThat(outcome.moves()).allSatisfy(m -> {
            assertThat(m.fromBucket()).isEqualTo(iputBucket);
            assertThat(m.toKey()).startsWith("s" + next + "-");
            assertThat(m.toSymbolic()).doesNotContain("|iput");
        });
        assertThat(outcome.scanned()).isEqualTo(29);
        assertThat(outcome.mismatched()).isZero();
    }

    @Test
    void invalidCandidatesAreRefusedWithWhatIsWrong() throws Exception {
        ObjectNode badRegex = shippedRules();
        ((ArrayNode) badRegex.get("skipFrames")).add("foo(");
        assertThatThrownBy(() -> SignatureRules.parse(badRegex))
                .isInstanceOf(InvalidRulesException.class)
                .hasMessageContaining("skipFrames[")
                .hasMessageContaining("not a regular expression");
        ObjectNode noFrames = shippedRules();
        noFrames.put("framesInKey", 0);
        assertThatThrownBy(() -> SignatureRules.parse(noFrames)).hasMessageContaining("framesInKey");
        ObjectNode unknown = shippedRules();
        unknown.put("skipframes", "x");
        assertThatThrownBy(() -> SignatureRules.parse(unknown)).hasMessageContaining("unknown field skipframes");
        assertThatThrownBy(() -> SignatureRules.parse(JSON.readTree("[1]"))).hasMessageContaining("JSON object");
        assertThat(SignatureRules.parse(shippedRules()).version())
                .isEqualTo(SignatureRules.current().version());
    }

    /** Every corpus report as filing would have stored it from its console text (logs without a report left out). */
    private static List<StoredReport> corpus(Signatures current) throws IOException {
        List<StoredReport> stored = new ArrayList<>();
        for (JsonNode entry : JSON.readTree(resource("index.json"))) {
            String file = entry.path("file").asText();
            if (entry.path("class").asText().equals("none")) {
                continue;
            }
            KernelReport report = LinuxConsoleParser.parse(resource(file)).orElseThrow();
            Signature s = current.of(report, "6.1-test");
            stored.add(new StoredReport(
                    file,
                    UUID.nameUUIDFromBytes(s.symbolicKey().getBytes(StandardCharsets.UTF_8)),
                    "linux-console",
                    "AcmeOS",
                    "6.1-test",
                    "CRASH",
                    ReportSigner.factsJson(report),
                    s.symbolicKey()));
        }
        return stored;
    }

    private static UUID bucketOf(List<StoredReport> stored, String file) {
        return stored.stream()
                .filter(r -> r.incidentId().equals(file))
                .findFirst()
                .orElseThrow()
                .bucket();
    }

    private static ObjectNode shippedRules() throws IOException {
        try (InputStream in = SignatureRules.class.getResourceAsStream("rules.json")) {
            return (ObjectNode) JSON.readTree(in);
        }
    }

    private static String resource(String file) throws IOException {
        try (InputStream in = RulesDryRunTest.class.getResourceAsStream("/corpus/linux/" + file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
