package dev.vigil.ingestion.persistence;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A crash, hang, watchdog or paused-on-I/O-error incident and whether its crash report went out. */
@Entity
@Table(name = "incident")
public class IncidentEntity {

    @Id
    @Column(name = "incident_id")
    public String incidentId;

    @Column(nullable = false)
    public String tenant;

    @Column(name = "host_id", nullable = false)
    public String hostId;

    @Column(name = "vm_uuid", nullable = false)
    public String vmUuid;

    @Column(name = "vm_name")
    public String vmName;

    public String product;

    public String release;

    /** CRASH, HANG, WATCHDOG or IO_ERROR; null until the trigger event arrives. */
    public String trigger;

    /** The trigger event as the agent sent it. */
    @Column(name = "trigger_record")
    public byte[] triggerRecord;

    /** The first of the incident's trigger events that carried hypervisor panic data. */
    @Column(name = "panic_record")
    public byte[] panicRecord;

    @Column(name = "detected_at")
    public Instant detectedAt;

    /** The kinds of evidence the agent said it would capture; null if it did not say. */
    @Column(name = "capture_plan")
    public String[] capturePlan;

    @Column(name = "opened_at", nullable = false)
    public Instant openedAt;

    @Column(nullable = false)
    public Instant deadline;

    /** When its provisional report (the hypervisor's event alone, before the evidence) was published. */
    @Column(name = "provisional_at")
    public Instant provisionalAt;

    @Column(name = "reported_at")
    public Instant reportedAt;

    @Column(name = "report_event_id")
    public String reportEventId;

    public Boolean complete;

    public String[] missing;
}
