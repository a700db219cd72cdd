package dev.vigil.ingestion.persistence;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A row of the event index: one accepted agent event. */
@Entity
@Table(name = "agent_event")
public class AgentEventEntity {

    @Id
    @Column(name = "event_id")
    public String eventId;

    @Column(name = "event_type", nullable = false)
    public String eventType;

    @Column(nullable = false)
    public String kind;

    @Column(nullable = false)
    public String tenant;

    @Column(name = "host_id", nullable = false)
    public String hostId;

    @Column(name = "vm_uuid")
    public String vmUuid;

    public String state;

    public String reason;

    @Column(name = "occurred_at", nullable = false)
    public Instant occurredAt;

    @Column(name = "received_at", nullable = false)
    public Instant receivedAt;

    @Column(nullable = false)
    public String summary;

    @Column(name = "kafka_topic", nullable = false)
    public String kafkaTopic;

    @Column(name = "kafka_partition", nullable = false)
    public int kafkaPartition;

    /** Events of one VM share a partition: the offset orders events stamped in the same millisecond. */
    @Column(name = "kafka_offset", nullable = false)
    public long kafkaOffset;
}
