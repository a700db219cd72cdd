package dev.vigil.agent.delivery;

/** An enrolment or install that cannot go on, with what the user should do about it. */
public final class DeliveryException extends Exception {

    /** What stopped it. */
    public enum Kind {
        /** The agent is not set up for deliveries (no dispatch address, not enrolled). */
        NOT_CONFIGURED,
        /** Dispatch refused the request (a used or expired token, an unknown release). */
        REFUSED,
        /** Dispatch or the object store could not be reached after retries; running again resumes. */
        NETWORK,
        /** Signed metadata failed its checks: expired, rolled back, tampered; nothing is installed. */
        UNTRUSTED,
        /** The domain the vendor sent asks for what a VM must not have (host devices, host paths, own emulator). */
        POLICY,
        /** Not enough free disk space. */
        NO_SPACE,
        /** The hypervisor refused the VM. */
        HYPERVISOR,
        /** A local file could not be read or written. */
        IO
    }

    private final Kind kind;

    public DeliveryException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public DeliveryException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
