package dev.vigil.agent.capture;

import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.Crash;
import dev.vigil.schemas.agent.Delivery;
import dev.vigil.schemas.agent.DeliveryStep;
import dev.vigil.schemas.agent.Hang;
import dev.vigil.schemas.agent.IoError;
import dev.vigil.schemas.agent.IoErrorAction;
import dev.vigil.schemas.agent.Watchdog;
import java.util.Locale;
import java.util.Optional;

/** The events that open an incident and start a capture. */
public enum TriggerKind {
    CRASH,
    HANG,
    WATCHDOG,
    IO_ERROR,
    /** The vendor interrupted the VM with a signed command: its state is taken before it is stopped. */
    INTERRUPT;

    /** The trigger an event is, if any: an I/O error only when the VM was paused on it (a reported one is not). */
    public static Optional<TriggerKind> of(AgentEvent event) {
        Object payload = event.getPayload();
        if (event.getVm() == null) {
            return Optional.empty();
        }
        if (payload instanceof Crash) {
            return Optional.of(CRASH);
        }
        if (payload instanceof Hang) {
            return Optional.of(HANG);
        }
        if (payload instanceof Watchdog) {
            return Optional.of(WATCHDOG);
        }
        if (payload instanceof IoError error && error.getAction() == IoErrorAction.PAUSE) {
            return Optional.of(IO_ERROR);
        }
        if (payload instanceof Delivery delivery && delivery.getStep() == DeliveryStep.INTERRUPTED) {
            return Optional.of(INTERRUPT);
        }
        return Optional.empty();
    }

    /** The name used in configuration: crash, hang, watchdog, io-error, interrupt. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Optional<TriggerKind> fromConfigName(String name) {
        for (TriggerKind kind : values()) {
            if (kind.configName().equals(name.trim().toLowerCase(Locale.ROOT))) {
                return Optional.of(kind);
            }
        }
        return Optional.empty();
    }
}
