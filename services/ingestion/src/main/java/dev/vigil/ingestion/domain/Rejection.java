package dev.vigil.ingestion.domain;

/**
 * Why a record was refused, as a typed reason (a {@code DeadLetterReason} name) and a bounded explanation.
 *
 * @param reason the dead-letter reason's name, one value of a closed set
 */
public record Rejection(String reason, String detail) {

    private static final int MAX_DETAIL = 500;

    public Rejection {
        detail = detail == null ? "" : detail.length() > MAX_DETAIL ? detail.substring(0, MAX_DETAIL) + "..." : detail;
    }
}
