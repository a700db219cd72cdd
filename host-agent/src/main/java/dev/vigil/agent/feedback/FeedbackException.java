package dev.vigil.agent.feedback;

/** The feedback command's input is wrong; the message says how to fix it. */
public final class FeedbackException extends Exception {

    public FeedbackException(String message) {
        super(message);
    }
}
