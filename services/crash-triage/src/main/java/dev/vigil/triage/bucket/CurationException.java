package dev.vigil.triage.bucket;

/** An analyst's change to buckets that cannot be made, with its typed reason. */
public final class CurationException extends Exception {

    /** Why a change was refused. */
    public enum Reason {
        NO_SUCH_BUCKET,
        SAME_BUCKET,
        ALREADY_MERGED,
        TARGET_MERGED,
        NOT_MERGED
    }

    private final Reason reason;

    public CurationException(Reason reason, String detail) {
        super(detail, null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
