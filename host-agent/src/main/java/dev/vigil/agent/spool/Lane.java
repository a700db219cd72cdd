package dev.vigil.agent.spool;

/** A spool lane: records of one class, kept and shed by one rule. */
public enum Lane {
    /** Crash evidence, lifecycle, commands' results, feedback: never shed. */
    EVIDENCE,
    /** Periodic samples: the oldest are shed first when the spool is over its bound. */
    SAMPLES
}
