package dev.vigil.agent.hypervisor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The panic data QEMU's {@code GUEST_PANICKED} event carries: for Windows guests with Hyper-V crash MSRs the STOP
 * code and its four parameters ({@code arg1..arg5}), for s390 the reason and PSW; for a Linux pvpanic device only
 * that a panic happened.
 */
public record GuestPanic(
        String vmUuid,
        String vmName,
        String type,
        Long bugcheckCode,
        List<Long> bugcheckParameters,
        Long instructionPointer,
        String message,
        Instant observedAt)
        implements HypervisorEvent {

    private static final ObjectMapper JSON = new ObjectMapper();

    public GuestPanic {
        bugcheckParameters = List.copyOf(bugcheckParameters);
    }

    /** Parses the event's details; malformed details still yield a panic, with only what could be read. */
    static GuestPanic parse(String vmUuid, String vmName, String details, Instant observedAt) {
        JsonNode info;
        try {
            info = details == null ? null : JSON.readTree(details).path("info");
        } catch (java.io.IOException e) {
            info = null;
        }
        if (info == null || info.isMissingNode() || info.isNull()) {
            return new GuestPanic(vmUuid, vmName, "pvpanic", null, List.of(), null, null, observedAt);
        }
        String type = info.path("type").asText("unknown");
        if ("hyper-v".equals(type)) {
            List<Long> parameters = new ArrayList<>();
            for (int i = 2; i <= 5; i++) {
                if (info.has("arg" + i)) {
                    parameters.add(info.get("arg" + i).asLong());
                }
            }
            return new GuestPanic(
                    vmUuid,
                    vmName,
                    type,
                    info.has("arg1") ? info.get("arg1").asLong() : null,
                    parameters,
                    null,
                    null,
                    observedAt);
        }
        if ("s390".equals(type)) {
            return new GuestPanic(
                    vmUuid,
                    vmName,
                    type,
                    null,
                    List.of(),
                    info.has("psw-addr") ? info.get("psw-addr").asLong() : null,
                    info.path("reason").asText(null),
                    observedAt);
        }
        return new GuestPanic(vmUuid, vmName, type, null, List.of(), null, info.toString(), observedAt);
    }
}
