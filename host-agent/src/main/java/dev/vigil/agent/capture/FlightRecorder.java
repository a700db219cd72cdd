package dev.vigil.agent.capture;

import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.AgentSamples;
import dev.vigil.schemas.agent.VmSample;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.specific.SpecificRecord;

/**
 * The last few minutes of each VM's events and samples, kept in memory so a capture can show what led up to a
 * failure. Bounded by time and by a count per VM; the oldest entries go first.
 */
public final class FlightRecorder {

    static final int MAX_ENTRIES_PER_VM = 5_000;

    private record Entry(Instant at, String topic, String json) {}

    private final Duration window;
    private final Map<String, Deque<Entry>> byVm = new ConcurrentHashMap<>();

    public FlightRecorder(Duration window) {
        this.window = window;
    }

    /** Records what the agent just captured: an event about a VM, or each VM's part of a samples record. */
    public void record(SpecificRecord record) {
        if (record instanceof AgentEvent event && event.getVm() != null) {
            add(event.getVm().getUuid(), event.getEnvelope().getOccurredAt(), "event", event.toString());
        } else if (record instanceof AgentSamples samples) {
            for (VmSample vm : samples.getVms()) {
                add(vm.getVm().getUuid(), samples.getEnvelope().getOccurredAt(), "sample", vm.toString());
            }
        }
    }

    /** Drops a VM's history (it was undefined). */
    public void forget(String vmUuid) {
        byVm.remove(vmUuid);
    }

    /** The VM's recorded history up to {@code until} as JSON lines, oldest first, then {@code trailer} if given. */
    public byte[] dump(String vmUuid, Instant until, String trailer) {
        StringBuilder out = new StringBuilder();
        Deque<Entry> entries = byVm.get(vmUuid);
        if (entries != null) {
            List<Entry> copy;
            synchronized (entries) {
                copy = List.copyOf(entries);
            }
            Instant from = until.minus(window);
            for (Entry e : copy) {
                if (!e.at().isBefore(from)) {
                    out.append("{\"at\":\"")
                            .append(e.at())
                            .append("\",\"kind\":\"")
                            .append(e.topic())
                            .append("\",\"record\":")
                            .append(e.json())
                            .append("}\n");
                }
            }
        }
        if (trailer != null) {
            out.append(trailer).append('\n');
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private void add(String vmUuid, Instant at, String kind, String json) {
        Deque<Entry> entries = byVm.computeIfAbsent(vmUuid, k -> new ArrayDeque<>());
        synchronized (entries) {
            entries.addLast(new Entry(at, kind, json));
            Instant horizon = at.minus(window);
            while (!entries.isEmpty()
                    && (entries.size() > MAX_ENTRIES_PER_VM
                            || entries.peekFirst().at().isBefore(horizon))) {
                entries.removeFirst();
            }
        }
    }
}
