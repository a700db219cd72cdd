package dev.vigil.ingestion.service;

import dev.vigil.ingestion.config.IngestionConfig;
import dev.vigil.ingestion.domain.FleetReplay;
import dev.vigil.ingestion.domain.RecordedEvent;
import dev.vigil.ingestion.domain.UptimeKey;
import dev.vigil.ingestion.domain.VmRow;
import dev.vigil.ingestion.persistence.UptimeRepository;
import dev.vigil.ingestion.persistence.VmRepository;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keeps the VM inventory and the uptime ledger (VM-hours per release per day, the denominator of crash rates) for a
 * poll of events with a handful of statements whatever its size: the poll's VM rows are locked and read once, the
 * poll is replayed in memory ({@link FleetReplay}), and the changed rows and ledger credits are written back.
 */
@ApplicationScoped
public class FleetBooks {

    private final VmRepository vms;
    private final UptimeRepository ledger;
    private final IngestionConfig config;

    FleetBooks(VmRepository vms, UptimeRepository ledger, IngestionConfig config) {
        this.vms = vms;
        this.ledger = ledger;
        this.config = config;
    }

    /** The poll's new events, in poll order; must run in the poll's transaction. */
    void apply(List<RecordedEvent> events) {
        Set<String> vmUuids = new LinkedHashSet<>();
        Set<String> reportingHosts = new LinkedHashSet<>();
        for (RecordedEvent event : events) {
            if (event.vmUuid() != null) {
                vmUuids.add(event.vmUuid());
            } else if ("AgentStatus".equals(event.kind())) {
                reportingHosts.add(event.hostId());
            }
        }
        if (vmUuids.isEmpty() && reportingHosts.isEmpty()) {
            return;
        }
        Map<String, VmRow> rows = vms.lockForPoll(vmUuids, reportingHosts);
        Map<UptimeKey, Double> credits = FleetReplay.apply(events, rows, config.uptimeMaxGap());
        vms.writeBack(rows.values());
        // In key order: concurrent writers lock ledger rows in one order.
        credits.forEach((k, seconds) -> ledger.credit(k.day(), k.tenant(), k.product(), k.release(), seconds));
    }
}
