package dev.vigil.ingestion.domain;

/** What became of one record: kept, dropped as a duplicate, or refused (with why). */
public record IngestionResult(Outcome outcome, Rejection rejection) {

    /** The three ends a record can reach. */
    public enum Outcome {
        STORED,
        DUPLICATE,
        REJECTED
    }

    public static IngestionResult stored() {
        return new IngestionResult(Outcome.STORED, null);
    }

    public static IngestionResult duplicate() {
        return new IngestionResult(Outcome.DUPLICATE, null);
    }

    public static IngestionResult rejected(Rejection rejection) {
        return new IngestionResult(Outcome.REJECTED, rejection);
    }
}
