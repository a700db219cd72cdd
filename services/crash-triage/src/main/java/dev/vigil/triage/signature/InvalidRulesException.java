package dev.vigil.triage.signature;

/** A rules document that is not valid rules, with what is wrong with it. */
public final class InvalidRulesException extends Exception {

    public InvalidRulesException(String detail) {
        super(detail, null, false, false);
    }
}
