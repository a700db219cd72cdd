package dev.vigil.ingestion.persistence;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A host of the fleet inventory and the agent last seen on it. */
@Entity
@Table(name = "host")
public class HostEntity {

    @Id
    @Column(name = "host_id")
    public String hostId;

    @Column(nullable = false)
    public String tenant;

    @Column(name = "agent_id", nullable = false)
    public String agentId;

    @Column(name = "agent_version", nullable = false)
    public String agentVersion;

    @Column(name = "first_seen", nullable = false)
    public Instant firstSeen;

    @Column(name = "last_seen", nullable = false)
    public Instant lastSeen;
}
