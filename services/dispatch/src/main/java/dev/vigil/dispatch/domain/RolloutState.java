package dev.vigil.dispatch.domain;

/** Where a staged rollout is. */
public enum RolloutState {
    /** Judged at every check; advances stage by stage. */
    RUNNING,
    /** Held by an operator: hosts already included keep the release, no stage is added. */
    PAUSED,
    /** Stopped by the gate on a regression (and rolled back if asked). */
    HALTED,
    /** Stopped by an operator. */
    ABORTED,
    /** Every stage passed: the channel offers the release. */
    COMPLETED;

    public boolean inProgress() {
        return this == RUNNING || this == PAUSED;
    }
}
