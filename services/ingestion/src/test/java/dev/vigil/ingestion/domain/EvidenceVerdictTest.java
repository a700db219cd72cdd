package dev.vigil.ingestion.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EvidenceVerdictTest {

    private static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");
    private static final Instant LATER = NOW.plusSeconds(600);
    private static final List<String> PLAN = List.of("SCREENSHOT", "CONSOLE_TEXT", "MEMORY_DUMP");

    @Test
    void dueAndCompleteOnceEveryPlannedKindHasAVerifiedArtifact() {
        EvidenceVerdict verdict = EvidenceVerdict.assess(
                true,
                LATER,
                PLAN,
                Map.of(
                        "SCREENSHOT", Set.of("VERIFIED"),
                        "CONSOLE_TEXT", Set.of("CORRUPT", "VERIFIED"),
                        "MEMORY_DUMP", Set.of("VERIFIED")),
                NOW);

        assertThat(verdict).isEqualTo(new EvidenceVerdict(true, true, List.of()));
    }

    @Test
    void waitsWhileAnyKindIsUnverifiedAbsentOrBad() {
        EvidenceVerdict verdict = EvidenceVerdict.assess(
                true, LATER, PLAN, Map.of("SCREENSHOT", Set.of("UNVERIFIED"), "CONSOLE_TEXT", Set.of("CORRUPT")), NOW);

        assertThat(verdict.due()).isFalse();
        assertThat(verdict.missing()).containsExactly("SCREENSHOT", "CONSOLE_TEXT", "MEMORY_DUMP");
    }

    @Test
    void atTheDeadlineItIsDueAndSaysWhatIsMissingInPlanOrder() {
        EvidenceVerdict verdict =
                EvidenceVerdict.assess(true, NOW, PLAN, Map.of("CONSOLE_TEXT", Set.of("VERIFIED")), NOW);

        assertThat(verdict).isEqualTo(new EvidenceVerdict(true, false, List.of("SCREENSHOT", "MEMORY_DUMP")));
    }

    @Test
    void withoutItsTriggerEvenFullEvidenceWaitsForTheDeadline() {
        Map<String, Set<String>> all = Map.of(
                "SCREENSHOT",
                Set.of("VERIFIED"),
                "CONSOLE_TEXT",
                Set.of("VERIFIED"),
                "MEMORY_DUMP",
                Set.of("VERIFIED"));

        assertThat(EvidenceVerdict.assess(false, LATER, PLAN, all, NOW).due()).isFalse();
        assertThat(EvidenceVerdict.assess(false, NOW, PLAN, all, NOW))
                .isEqualTo(new EvidenceVerdict(true, false, List.of()));
    }
}
