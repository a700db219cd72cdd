package dev.vigil.ingestion.persistence;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A trigger event (or an artifact's incident id) and the incident it belongs to. */
@Entity
@Table(name = "incident_trigger")
public class IncidentTriggerEntity {

    @Id
    @Column(name = "event_id")
    public String eventId;

    @Column(name = "incident_id", nullable = false)
    public String incidentId;
}
