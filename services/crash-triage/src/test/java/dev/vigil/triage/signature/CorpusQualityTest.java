package dev.vigil.triage.signature;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.triage.evidence.KernelReport;
import dev.vigil.triage.evidence.LinuxConsoleParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Title accuracy and grouping quality on a labelled corpus of real kernel reports from public sources
 * ({@code src/test/resources/corpus/linux/index.json} cites each one). The floors are what the current rules
 * reach: a rules or parser change that lowers any of them fails here, and one that raises them should raise the
 * floors. Every miss is printed, so a failure says which reports moved.
 */
class CorpusQualityTest {

    static final double MIN_TITLE_ACCURACY = 27 / 29.0;
    static final double MIN_GROUPING_PRECISION = 1.0;
    static final double MIN_GROUPING_RECALL = 0.75;

    private record Outcome(String file, String group, String expectedTitle, String title, String key) {}

    @Test
    void titlesAndGroupsStayAtLeastAsGoodAsTheyAre() throws IOException {
        Signatures signatures = new Signatures(SignatureRules.current());
        List<Outcome> outcomes = new ArrayList<>();
        for (JsonNode entry : index()) {
            String file = entry.path("file").asText();
            String text = read(file);
            KernelReport report = LinuxConsoleParser.parse(text).orElse(null);
            Signature s = report == null ? null : signatures.of(report, null);
            outcomes.add(new Outcome(
                    file,
                    entry.path("group").asText(),
                    entry.path("expectedTitle").asText(),
                    s == null ? "(no report found)" : s.title(),
                    s == null ? "none:" + file : s.symbolicKey()));
        }

        long right = outcomes.stream()
                .filter(o -> o.title().equals(o.expectedTitle()))
                .count();
        double accuracy = right / (double) outcomes.size();
        // Pairwise grouping: a pair is predicted together when the symbolic keys match, truly together when the
        // labels say it is the same bug.
        List<String> splits = new ArrayList<>();
        long truePairs = 0;
        long predictedPairs = 0;
        long bothPairs = 0;
        for (int i = 0; i < outcomes.size(); i++) {
            for (int j = i + 1; j < outcomes.size(); j++) {
                boolean same = outcomes.get(i).group().equals(outcomes.get(j).group());
                boolean together = outcomes.get(i).key().equals(outcomes.get(j).key());
                truePairs += same ? 1 : 0;
                predictedPairs += together ? 1 : 0;
                bothPairs += same && together ? 1 : 0;
                if (same != together) {
                    splits.add((same ? "  split (same bug, two buckets): " : "  merged (two bugs, one bucket): ")
                            + outcomes.get(i).file() + " / " + outcomes.get(j).file() + "\n");
                }
            }
        }
        double precision = predictedPairs == 0 ? 1.0 : bothPairs / (double) predictedPairs;
        double recall = truePairs == 0 ? 1.0 : bothPairs / (double) truePairs;

        StringBuilder report = new StringBuilder();
        report.append(String.format(
                "corpus: %d reports; titles %d/%d = %.3f; grouping precision %.3f (%d/%d pairs), recall %.3f (%d/%d"
                        + " pairs)%n",
                outcomes.size(),
                right,
                outcomes.size(),
                accuracy,
                precision,
                bothPairs,
                predictedPairs,
                recall,
                bothPairs,
                truePairs));
        for (Outcome o : outcomes) {
            if (!o.title().equals(o.expectedTitle())) {
                report.append("  title miss ")
                        .append(o.file())
                        .append(": expected '")
                        .append(o.expectedTitle())
                        .append("', got '")
                        .append(o.title())
                        .append("'\n");
            }
        }
        splits.forEach(report::append);
        System.out.print(report);

        assertThat(accuracy).as(report.toString()).isGreaterThanOrEqualTo(MIN_TITLE_ACCURACY);
        assertThat(precision).as(report.toString()).isGreaterThanOrEqualTo(MIN_GROUPING_PRECISION);
        assertThat(recall).as(report.toString()).isGreaterThanOrEqualTo(MIN_GROUPING_RECALL);
    }

    private static JsonNode index() throws IOException {
        try (InputStream in = CorpusQualityTest.class.getResourceAsStream("/corpus/linux/index.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    private static String read(String file) throws IOException {
        try (InputStream in = CorpusQualityTest.class.getResourceAsStream("/corpus/linux/" + file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
