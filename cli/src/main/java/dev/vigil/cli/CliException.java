package dev.vigil.cli;

/** A command that cannot go on, with what to do about it and the exit status it ends with. */
public final class CliException extends Exception {

    /** Bad arguments. */
    public static final int USAGE = 2;
    /** Dispatch refused the request, or the image was rejected. */
    public static final int REFUSED = 1;
    /** Dispatch could not be reached, or a local file could not be read. */
    public static final int IO = 3;

    private final int status;

    public CliException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
