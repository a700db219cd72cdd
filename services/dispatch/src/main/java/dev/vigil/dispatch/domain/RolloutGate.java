package dev.vigil.dispatch.domain;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * What a running rollout does next, judged on release health like a safeguard hold: it halts as soon as the release's
 * crash rate is significantly worse than the release it replaces (crash triage's one-sided exact conditional binomial
 * test of the two Poisson counts, null hypothesis "at most minRateRatio times the previous rate"), or crash triage
 * found a bucket whose rate rose significantly in it. Otherwise stage k of n waits until the release has
 * {@code k × minVmHours} VM-hours and the stage has lasted {@code minStageDuration}, then the next stage starts, or
 * after the last the release becomes what the channel offers.
 */
public final class RolloutGate {

    /** What the gate decides. */
    public enum Verdict {
        WAIT,
        ADVANCE,
        COMPLETE,
        HALT
    }

    /** A verdict and why. */
    public record Decision(Verdict verdict, String reason) {}

    private RolloutGate() {}

    /** Judges a running rollout on {@code health} (null when crash triage could not say). */
    public static Decision judge(Rollout rollout, ReleaseHealth health, Instant now) {
        if (health == null) {
            return new Decision(Verdict.WAIT, "release health is unavailable: nothing is judged without it");
        }
        if (health.significant()) {
            return new Decision(
                    Verdict.HALT,
                    String.format(
                            Locale.ROOT,
                            "%s crashes %.2f times per 1,000 VM-hours (%d in %.0f VM-hours), %s %.2f (%d in %.0f):"
                                    + " more than %.2f times worse, p = %.2g < %.2g",
                            rollout.release(),
                            health.ratePer1000VmHours(),
                            health.reports(),
                            health.vmHours(),
                            rollout.previousRelease(),
                            health.previousRatePer1000VmHours(),
                            health.previousReports(),
                            health.previousVmHours(),
                            health.minRateRatio(),
                            health.pValue(),
                            health.significance()));
        }
        if (!health.rateRegressions().isEmpty()) {
            ReleaseHealth.Regression first = health.rateRegressions().get(0);
            return new Decision(
                    Verdict.HALT,
                    "crash triage found " + health.rateRegressions().size() + " bucket(s) whose rate rose in "
                            + rollout.release() + ", first '" + first.title() + "' (" + first.bucketId() + ")");
        }
        double needed = rollout.minVmHours() * rollout.stage();
        double exposure = health.vmHours() == null ? 0 : health.vmHours();
        if (exposure < needed) {
            return new Decision(
                    Verdict.WAIT,
                    String.format(
                            Locale.ROOT,
                            "stage %d needs %.0f VM-hours of %s, it has %.0f",
                            rollout.stage(),
                            needed,
                            rollout.release(),
                            exposure));
        }
        Duration lasted = Duration.between(rollout.stageStartedAt(), now);
        if (lasted.compareTo(rollout.minStageDuration()) < 0) {
            return new Decision(
                    Verdict.WAIT,
                    "stage " + rollout.stage() + " has lasted " + lasted.toSeconds() + " s of "
                            + rollout.minStageDuration().toSeconds());
        }
        String healthy = String.format(
                Locale.ROOT,
                "%.0f VM-hours, %d crashes (%s per 1,000 VM-hours; %s had %s)%s",
                exposure,
                health.reports(),
                rate(health.ratePer1000VmHours()),
                rollout.previousRelease(),
                rate(health.previousRatePer1000VmHours()),
                health.pValue() == null ? "" : String.format(Locale.ROOT, ", p = %.2g", health.pValue()));
        if (rollout.lastStage()) {
            return new Decision(Verdict.COMPLETE, "every stage passed: " + healthy);
        }
        return new Decision(Verdict.ADVANCE, "stage " + rollout.stage() + " passed: " + healthy);
    }

    private static String rate(Double rate) {
        return rate == null ? "no rate" : String.format(Locale.ROOT, "%.2f", rate);
    }
}
