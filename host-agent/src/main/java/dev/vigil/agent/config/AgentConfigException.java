package dev.vigil.agent.config;

/** The agent's configuration is invalid; the message names the key and the fix. */
public final class AgentConfigException extends RuntimeException {

    public AgentConfigException(String message) {
        super(message);
    }
}
