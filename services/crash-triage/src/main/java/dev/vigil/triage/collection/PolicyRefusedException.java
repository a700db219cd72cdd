package dev.vigil.triage.collection;

/** A collection policy that cannot be set on a bucket, with its typed reason. */
public final class PolicyRefusedException extends Exception {

    /** Why it was refused. */
    public enum Reason {
        /** No such bucket. */
        NO_SUCH_BUCKET,
        /** The bucket was merged into another: its reports count there, and so does its policy. */
        MERGED
    }

    private final Reason reason;

    public PolicyRefusedException(Reason reason, String detail) {
        super(detail, null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
