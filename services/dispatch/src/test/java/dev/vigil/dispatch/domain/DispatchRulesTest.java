package dev.vigil.dispatch.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The small rules dispatch decides by: command states, collection policies, cohorts, tokens and the rollout gate. */
class DispatchRulesTest {

    private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

    @Test
    void anAgentsFinalWordStandsAndBeatsAnAssumedExpiry() {
        assertThat(CommandState.DELIVERED.after("ACCEPTED")).isEqualTo(CommandState.ACKNOWLEDGED);
        assertThat(CommandState.ACKNOWLEDGED.after("SUCCEEDED")).isEqualTo(CommandState.SUCCEEDED);
        assertThat(CommandState.EXPIRED.after("SUCCEEDED")).isEqualTo(CommandState.SUCCEEDED);
        assertThat(CommandState.ISSUED.after("REFUSED")).isEqualTo(CommandState.REFUSED);
        // A duplicate delivery is refused as replayed after the command ran; a late acknowledgement is stale.
        assertThat(CommandState.SUCCEEDED.after("REFUSED")).isEqualTo(CommandState.SUCCEEDED);
        assertThat(CommandState.FAILED.after("ACCEPTED")).isEqualTo(CommandState.FAILED);
        assertThat(CommandState.DELIVERED.after("UNKNOWN")).isEqualTo(CommandState.DELIVERED);
    }

    @Test
    void aHostsPolicyIsTheStrongestRequestPerTrigger() {
        Map<String, String> policy = CollectionPolicies.combine(List.of(
                new CollectionPolicies.Request("none", List.of("crash", "hang")),
                new CollectionPolicies.Request("full", List.of("crash")),
                new CollectionPolicies.Request("kernel", List.of("hang", "watchdog")),
                new CollectionPolicies.Request("bogus", List.of("io-error"))));

        assertThat(policy)
                .containsExactlyInAnyOrderEntriesOf(
                        Map.of("dump.crash", "full", "dump.hang", "kernel", "dump.watchdog", "kernel"));
        assertThat(CollectionPolicies.combine(List.of())).isEmpty();
    }

    @Test
    void cohortsGrowWithTheirStageAndDifferBetweenRollouts() {
        UUID first = UUID.randomUUID();
        UUID second = UUID.randomUUID();
        int inTen = 0;
        int inBoth = 0;
        for (int i = 0; i < 10_000; i++) {
            String host = "host-" + i;
            boolean ten = Cohorts.includes(first, host, 10);
            if (ten) {
                inTen++;
                assertThat(Cohorts.includes(first, host, 50)).isTrue();
                if (Cohorts.includes(second, host, 10)) {
                    inBoth++;
                }
            }
            assertThat(Cohorts.includes(first, host, 100)).isTrue();
        }
        assertThat(inTen).isBetween(900, 1100);
        // Independent rollouts pick their first tenth independently: about a tenth of it again.
        assertThat(inBoth).isBetween(60, 140);
    }

    @Test
    void enrolmentTokensReadBackAndAnythingElseIsNotOne() {
        EnrolmentToken token = EnrolmentToken.issue(3, "ab".repeat(32));
        EnrolmentToken read = EnrolmentToken.parse(token.toString());

        assertThat(read).isEqualTo(token);
        assertThat(read.rootVersion()).isEqualTo(3);
        assertThat(read.rootSha256Prefix()).isEqualTo("ab".repeat(16));
        for (String bad : new String[] {
            null,
            "",
            "ve1",
            "ve2." + token.secret() + ".3." + "ab".repeat(16),
            token + ".x",
            "ve1." + token.secret() + ".0." + "ab".repeat(16),
            "ve1." + token.secret() + ".-1." + "ab".repeat(16),
            "ve1.short.3." + "ab".repeat(16),
            "ve1." + token.secret() + ".3.ZZ" + "ab".repeat(15),
            "x".repeat(500)
        }) {
            assertThat(EnrolmentToken.parse(bad)).as(bad).isNull();
        }
    }

    @Test
    void theGateHaltsOnARegressionBeforeItWaitsForExposure() {
        Rollout rollout = rollout(1, NOW.minus(Duration.ofHours(2)));
        ReleaseHealth worse = health(30, 500.0, 2, 10_000.0, 1e-9, true, List.of());

        RolloutGate.Decision decision = RolloutGate.judge(rollout, worse, NOW);

        assertThat(decision.verdict()).isEqualTo(RolloutGate.Verdict.HALT);
        assertThat(decision.reason()).contains("more than 1.50 times worse").contains("p = 1.0e-09");
    }

    @Test
    void theGateHaltsOnATriageRateRegressionButNotOnANewBucketAlone() {
        Rollout rollout = rollout(1, NOW.minus(Duration.ofHours(2)));
        ReleaseHealth rateUp = health(
                3,
                5000.0,
                2,
                10_000.0,
                0.4,
                false,
                List.of(new ReleaseHealth.Regression("b-1", "RATE_INCREASE", "WARNING in acme_probe")));
        ReleaseHealth newBucket = health(
                3,
                5000.0,
                2,
                10_000.0,
                0.4,
                false,
                List.of(new ReleaseHealth.Regression("b-2", "NEW_IN_RELEASE", "BUG in acme_new")));

        assertThat(RolloutGate.judge(rollout, rateUp, NOW).verdict()).isEqualTo(RolloutGate.Verdict.HALT);
        assertThat(RolloutGate.judge(rollout, rateUp, NOW).reason()).contains("WARNING in acme_probe");
        assertThat(RolloutGate.judge(rollout, newBucket, NOW).verdict()).isEqualTo(RolloutGate.Verdict.ADVANCE);
    }

    @Test
    void eachStageWaitsForItsExposureAndTimeThenAdvancesAndTheLastCompletes() {
        ReleaseHealth healthy = health(1, 1500.0, 2, 10_000.0, 0.6, false, List.of());

        assertThat(RolloutGate.judge(rollout(1, NOW.minus(Duration.ofHours(2))), null, NOW)
                        .verdict())
                .isEqualTo(RolloutGate.Verdict.WAIT);
        assertThat(RolloutGate.judge(rollout(1, NOW.minus(Duration.ofMinutes(5))), healthy, NOW)
                        .reason())
                .contains("has lasted 300 s of 3600");
        assertThat(RolloutGate.judge(rollout(1, NOW.minus(Duration.ofHours(2))), healthy, NOW)
                        .verdict())
                .isEqualTo(RolloutGate.Verdict.ADVANCE);
        // Stage 2 needs 2 x 1,000 VM-hours.
        assertThat(RolloutGate.judge(rollout(2, NOW.minus(Duration.ofHours(2))), healthy, NOW)
                        .reason())
                .contains("stage 2 needs 2000 VM-hours of 1.1, it has 1500");
        ReleaseHealth more = health(1, 3100.0, 2, 10_000.0, 0.7, false, List.of());
        assertThat(RolloutGate.judge(rollout(3, NOW.minus(Duration.ofHours(2))), more, NOW)
                        .verdict())
                .isEqualTo(RolloutGate.Verdict.COMPLETE);
    }

    private static Rollout rollout(int stage, Instant stageStarted) {
        return new Rollout(
                UUID.randomUUID(),
                "AcmeOS",
                "1.1",
                "1.0",
                "beta",
                List.of(10, 50, 100),
                stage,
                RolloutState.RUNNING,
                1000,
                Duration.ofHours(1),
                1.5,
                0.01,
                true,
                "otto",
                NOW,
                stageStarted,
                NOW);
    }

    private static ReleaseHealth health(
            long reports,
            Double vmHours,
            long previousReports,
            Double previousVmHours,
            Double pValue,
            boolean significant,
            List<ReleaseHealth.Regression> regressions) {
        return new ReleaseHealth(
                reports,
                vmHours,
                reports * 1000 / vmHours,
                previousReports,
                previousVmHours,
                previousReports * 1000 / previousVmHours,
                pValue,
                significant,
                1.5,
                0.01,
                regressions);
    }
}
