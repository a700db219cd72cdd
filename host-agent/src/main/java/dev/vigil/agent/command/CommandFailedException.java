package dev.vigil.agent.command;

/** A verified command could not be carried out; the message goes into its result. */
final class CommandFailedException extends Exception {

    CommandFailedException(String message) {
        super(message);
    }
}
