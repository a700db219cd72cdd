package dev.vigil.agent.capture;

import java.util.Locale;
import java.util.Optional;

/** What the agent does with a VM once its evidence is captured. */
public enum OnCrashAction {
    /** Leave it as the failure left it (a VM the capture paused is resumed). */
    PRESERVE,
    /** Power-cycle it. */
    RESTART,
    /** Revert it to its last trusted snapshot and start it. */
    RELAUNCH;

    public static Optional<OnCrashAction> parse(String value) {
        try {
            return Optional.of(valueOf(value.trim().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
