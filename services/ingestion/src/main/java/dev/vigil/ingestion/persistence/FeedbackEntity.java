package dev.vigil.ingestion.persistence;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A user's comment about a VM, as recorded. */
@Entity
@Table(name = "feedback")
public class FeedbackEntity {

    @Id
    @Column(name = "event_id")
    public String eventId;

    @Column(nullable = false)
    public String tenant;

    @Column(name = "host_id", nullable = false)
    public String hostId;

    @Column(name = "vm_uuid", nullable = false)
    public String vmUuid;

    @Column(nullable = false)
    public String text;

    public Integer rating;

    @Column(nullable = false)
    public String category;

    @Column(name = "screenshot_key")
    public String screenshotKey;

    @Column(name = "occurred_at", nullable = false)
    public Instant occurredAt;

    @Column(name = "received_at", nullable = false)
    public Instant receivedAt;
}
