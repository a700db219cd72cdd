package dev.vigil.ingestion.domain;

/**
 * A CDI event: something an incident's crash report waits for was recorded. Observed after the recording
 * transaction commits, so that the next step (verifying an artifact, publishing a report) runs at once instead of
 * at its scheduler's next tick.
 */
public enum IncidentEvidence {
    /** A trigger event opened or joined an incident. */
    TRIGGER,
    /** An artifact's manifest arrived, its object still unverified. */
    MANIFEST,
    /** An artifact's object was checked against its manifest. */
    CHECKED
}
