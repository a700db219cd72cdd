package dev.vigil.ingestion.persistence;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * A VM of the fleet inventory, with the latest lifecycle state reported for it. Read here; written only by
 * {@link VmRepository#writeBack}, one statement per poll of events.
 */
@Entity
@Table(name = "vm")
public class VmEntity {

    @Id
    @Column(name = "vm_uuid")
    public String vmUuid;

    @Column(nullable = false)
    public String name;

    @Column(name = "host_id", nullable = false)
    public String hostId;

    @Column(nullable = false)
    public String tenant;

    public String state;

    @Column(name = "state_reason")
    public String stateReason;

    @Column(name = "state_at")
    public Instant stateAt;

    /** The product the VM's master image declares, or null. */
    public String product;

    /** The release the VM's master image declares, or null. */
    public String release;

    /** Whether the VM's newest lifecycle state counts as running. */
    @Column(nullable = false)
    public boolean running;

    @Column(name = "first_seen", nullable = false)
    public Instant firstSeen;

    @Column(name = "last_seen", nullable = false)
    public Instant lastSeen;
}
