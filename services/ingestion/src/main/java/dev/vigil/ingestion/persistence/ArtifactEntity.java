package dev.vigil.ingestion.persistence;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** An artifact manifest and the result of checking its object. */
@Entity
@Table(name = "artifact")
public class ArtifactEntity {

    @Id
    @Column(name = "event_id")
    public String eventId;

    @Column(nullable = false)
    public String tenant;

    @Column(name = "host_id", nullable = false)
    public String hostId;

    @Column(name = "vm_uuid", nullable = false)
    public String vmUuid;

    @Column(name = "incident_id")
    public String incidentId;

    @Column(nullable = false)
    public String kind;

    @Column(nullable = false)
    public String bucket;

    @Column(name = "object_key", nullable = false)
    public String objectKey;

    @Column(nullable = false)
    public String sha256;

    @Column(name = "size_bytes", nullable = false)
    public long sizeBytes;

    @Column(nullable = false)
    public String format;

    public String encryption;

    @Column(nullable = false)
    public boolean partial;

    @Column(nullable = false)
    public String status;

    @Column(name = "status_detail")
    public String statusDetail;

    @Column(name = "verified_at")
    public Instant verifiedAt;

    @Column(name = "occurred_at", nullable = false)
    public Instant occurredAt;

    @Column(name = "received_at", nullable = false)
    public Instant receivedAt;
}
