package dev.vigil.triage.signature;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vigil.triage.evidence.KernelReport;
import dev.vigil.triage.evidence.LinuxConsoleParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Title accuracy and grouping quality on a labelled corpus of real kernel reports from public sources
 * ({@code src/test/resources/corpus/linux/index.json} cites each one). The test is strict about each outcome, not
 * only about ratios: {@code outcomes.json} holds every report whose title is still wrong (with the title Vigil gives
 * it), the grouping pair counts and how many reports are marked corrupted (titled {@code <kind> in corrupted},
 * which the labels say as kernel triage does). A report that goes wrong, a wrong title that changes, a known miss that comes
 * right, or a grouping count that moves fails the test with a list of what moved; after a deliberate improvement,
 * write the file again with {@code -Dvigil.corpus.write-outcomes=true} and review its diff.
 */
class CorpusQualityTest {

    private static final Path OUTCOMES = Path.of("src/test/resources/corpus/linux/outcomes.json");

    private record Outcome(
            String file, String group, String expectedTitle, String title, String key, boolean corrupted) {}

    @Test
    void everyLabelledOutcomeStaysAsItIs() throws IOException {
        Signatures signatures = new Signatures(SignatureRules.current());
        List<Outcome> outcomes = new ArrayList<>();
        for (JsonNode entry : index()) {
            String file = entry.path("file").asText();
            KernelReport report = LinuxConsoleParser.parse(read(file)).orElse(null);
            Signature s = report == null ? null : signatures.of(report, null);
            outcomes.add(new Outcome(
                    file,
                    entry.path("group").asText(),
                    entry.path("expectedTitle").asText(),
                    s == null ? "(no report found)" : s.title(),
                    s == null ? "none:" + file : s.symbolicKey(),
                    s != null && s.corrupted() != null));
        }

        Map<String, String> misses = new TreeMap<>();
        for (Outcome o : outcomes) {
            if (!o.title().equals(o.expectedTitle())) {
                misses.put(o.file(), o.title());
            }
        }
        // Pairwise grouping: a pair is predicted together when the symbolic keys match, truly together when the
        // labels say it is the same bug.
        long truePairs = 0;
        long predictedPairs = 0;
        long bothPairs = 0;
        // By titles alone, as an evaluation against kernel triage's own titles counts it: a pair is truly together
        // when both have the same expected title (one title may name several bugs), together when Vigil gives both
        // the same title.
        long sameTitlePairs = 0;
        long titledAlike = 0;
        long bothByTitle = 0;
        List<String> pairs = new ArrayList<>();
        for (int i = 0; i < outcomes.size(); i++) {
            for (int j = i + 1; j < outcomes.size(); j++) {
                boolean same = outcomes.get(i).group().equals(outcomes.get(j).group());
                boolean together = outcomes.get(i).key().equals(outcomes.get(j).key());
                boolean sameTitle =
                        outcomes.get(i).expectedTitle().equals(outcomes.get(j).expectedTitle());
                boolean alike = outcomes.get(i).title().equals(outcomes.get(j).title());
                sameTitlePairs += sameTitle ? 1 : 0;
                titledAlike += alike ? 1 : 0;
                bothByTitle += sameTitle && alike ? 1 : 0;
                truePairs += same ? 1 : 0;
                predictedPairs += together ? 1 : 0;
                bothPairs += same && together ? 1 : 0;
                if (same != together) {
                    pairs.add((same ? "  split (same bug, two buckets): " : "  merged (two bugs, one bucket): ")
                            + outcomes.get(i).file() + " / " + outcomes.get(j).file() + "\n");
                }
            }
        }
        int right = outcomes.size() - misses.size();
        long corrupted = outcomes.stream().filter(Outcome::corrupted).count();
        StringBuilder report = new StringBuilder(String.format(
                "corpus: %d reports; titles %d/%d = %.3f; grouping precision %.3f (%d/%d pairs), recall %.3f (%d/%d"
                        + " pairs); by titles: precision %.3f (%d/%d), recall %.3f (%d/%d); %d marked"
                        + " corrupted%n",
                outcomes.size(),
                right,
                outcomes.size(),
                right / (double) outcomes.size(),
                predictedPairs == 0 ? 1.0 : bothPairs / (double) predictedPairs,
                bothPairs,
                predictedPairs,
                truePairs == 0 ? 1.0 : bothPairs / (double) truePairs,
                bothPairs,
                truePairs,
                titledAlike == 0 ? 1.0 : bothByTitle / (double) titledAlike,
                bothByTitle,
                titledAlike,
                sameTitlePairs == 0 ? 1.0 : bothByTitle / (double) sameTitlePairs,
                bothByTitle,
                sameTitlePairs,
                corrupted));
        for (Outcome o : outcomes) {
            if (misses.containsKey(o.file())) {
                report.append("  title miss ")
                        .append(o.file())
                        .append(": expected '")
                        .append(o.expectedTitle())
                        .append("', got '")
                        .append(o.title())
                        .append("'\n");
            }
        }
        pairs.forEach(report::append);
        System.out.print(report);

        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode now = json.createObjectNode();
        now.put("reports", outcomes.size());
        now.put("titlesRight", right);
        now.put("pairsTogether", bothPairs);
        now.put("pairsWronglyTogether", predictedPairs - bothPairs);
        now.put("pairsSplit", truePairs - bothPairs);
        now.put("pairsTitledAlike", titledAlike);
        now.put("pairsTitledAlikeRightly", bothByTitle);
        now.put("pairsWithTheSameExpectedTitle", sameTitlePairs);
        now.put("corrupted", corrupted);
        now.set("titleMisses", json.valueToTree(misses));
        if (Boolean.getBoolean("vigil.corpus.write-outcomes")) {
            Files.writeString(OUTCOMES, json.writeValueAsString(now) + "\n");
            return;
        }
        JsonNode known = json.readTree(OUTCOMES.toFile());
        List<String> moved = new ArrayList<>();
        TreeSet<String> files = new TreeSet<>(misses.keySet());
        known.path("titleMisses").fieldNames().forEachRemaining(files::add);
        for (String file : files) {
            String was = known.path("titleMisses").path(file).asText(null);
            String is = misses.get(file);
            if (was == null) {
                moved.add("newly wrong: " + file + " is '" + is + "'");
            } else if (is == null) {
                moved.add("now right (write the outcomes again): " + file);
            } else if (!was.equals(is)) {
                moved.add("wrong differently: " + file + " was '" + was + "', is '" + is + "'");
            }
        }
        for (String count : List.of(
                "reports",
                "pairsTogether",
                "pairsWronglyTogether",
                "pairsSplit",
                "pairsTitledAlike",
                "pairsTitledAlikeRightly",
                "pairsWithTheSameExpectedTitle",
                "corrupted")) {
            if (known.path(count).asLong() != now.path(count).asLong()) {
                moved.add(count + " was " + known.path(count).asLong() + ", is "
                        + now.path(count).asLong());
            }
        }
        assertThat(moved).as(report.toString()).isEmpty();
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
