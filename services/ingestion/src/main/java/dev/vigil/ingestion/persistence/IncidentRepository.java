package dev.vigil.ingestion.persistence;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.transaction.TransactionSynchronizationRegistry;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.hibernate.Session;

/**
 * Incidents and the trigger events that belong to them. Every statement is idempotent, so a record delivered twice
 * or a race between the events and artifacts consumers ends in the same rows.
 */
@ApplicationScoped
public class IncidentRepository {

    /** The advisory lock that serializes incident changes; any constant no other Vigil code takes. */
    static final long INCIDENT_LOCK = 0x5669_6769_6c49_6e63L; // "VigilInc"

    private static final Object LOCK_HELD = new Object();

    private final EntityManager entityManager;
    private final TransactionSynchronizationRegistry transactions;

    IncidentRepository(EntityManager entityManager, TransactionSynchronizationRegistry transactions) {
        this.entityManager = entityManager;
        this.transactions = transactions;
    }

    /**
     * Takes the incident lock until the transaction ends (once per transaction). Events and artifact manifests are
     * consumed in batches, one transaction each, and both change incident rows in record order: without one lock
     * for incident changes, two batches could lock the same two incidents in opposite orders and deadlock. Trigger
     * events and incident artifacts are rare next to the rest of the traffic, so they wait for each other only.
     */
    public void lockIncidents() {
        if (transactions.getResource(LOCK_HELD) != null) {
            return;
        }
        entityManager
                .createNativeQuery("SELECT 1 FROM pg_advisory_xact_lock(:key)", Integer.class)
                .setParameter("key", INCIDENT_LOCK)
                .getSingleResult();
        transactions.putResource(LOCK_HELD, Boolean.TRUE);
    }

    /** What a trigger event says about its incident. */
    public record Trigger(
            String eventId,
            String tenant,
            String hostId,
            String vmUuid,
            String vmName,
            String product,
            String release,
            String kind,
            byte[] record,
            boolean hasPanic,
            Instant detectedAt) {}

    /** The incident an event id (a trigger's, or an artifact's incident id) belongs to, if it is known. */
    public Optional<String> incidentOf(String eventId) {
        return entityManager
                .createNativeQuery("SELECT incident_id FROM incident_trigger WHERE event_id = :id", String.class)
                .setParameter("id", eventId)
                .getResultStream()
                .map(String.class::cast)
                .findFirst();
    }

    /**
     * An open incident of the same kind on the same VM detected within {@code window} of {@code at}: a guest
     * panic and the crash libvirt reports a moment later are one incident. Locked until the transaction ends.
     */
    public Optional<String> openNear(String vmUuid, String kind, Instant at, java.time.Duration window) {
        return entityManager
                .createNativeQuery("""
                        SELECT incident_id FROM incident
                        WHERE vm_uuid = :vm AND trigger = :kind AND reported_at IS NULL
                          AND detected_at BETWEEN :from AND :to
                        ORDER BY detected_at LIMIT 1 FOR UPDATE""", String.class)
                .setParameter("vm", vmUuid)
                .setParameter("kind", kind)
                .setParameter("from", at.minus(window))
                .setParameter("to", at.plus(window))
                .getResultStream()
                .map(String.class::cast)
                .findFirst();
    }

    /**
     * Opens the incident the trigger names, or completes the one its artifacts opened before it arrived. The
     * first trigger's facts stay; panic data is taken from whichever trigger carries it first.
     */
    public void openOrFill(String incidentId, Trigger t, Instant now, Instant deadline) {
        entityManager
                .createNativeQuery("""
                        INSERT INTO incident (incident_id, tenant, host_id, vm_uuid, vm_name, product, release,
                            trigger, trigger_record, panic_record, detected_at, opened_at, deadline)
                        VALUES (:id, :tenant, :host, :vm, :name, :product, :release, :kind, :record, :panic,
                            :detected, :now, :deadline)
                        ON CONFLICT (incident_id) DO UPDATE SET
                            host_id = EXCLUDED.host_id,
                            vm_name = COALESCE(incident.vm_name, EXCLUDED.vm_name),
                            product = COALESCE(incident.product, EXCLUDED.product),
                            release = COALESCE(incident.release, EXCLUDED.release),
                            trigger = COALESCE(incident.trigger, EXCLUDED.trigger),
                            trigger_record = COALESCE(incident.trigger_record, EXCLUDED.trigger_record),
                            panic_record = COALESCE(incident.panic_record, EXCLUDED.panic_record),
                            detected_at = COALESCE(incident.detected_at, EXCLUDED.detected_at)""")
                .setParameter("id", incidentId)
                .setParameter("tenant", t.tenant())
                .setParameter("host", t.hostId())
                .setParameter("vm", t.vmUuid())
                .setParameter("name", t.vmName())
                .setParameter("product", t.product())
                .setParameter("release", t.release())
                .setParameter("kind", t.kind())
                .setParameter("record", t.record())
                .setParameter("panic", t.hasPanic() ? t.record() : null)
                .setParameter("detected", t.detectedAt())
                .setParameter("now", now)
                .setParameter("deadline", deadline)
                .executeUpdate();
    }

    /** Adds a later trigger's panic data to an incident that has none. */
    public void addPanic(String incidentId, byte[] record) {
        entityManager
                .createNativeQuery("""
                        UPDATE incident SET panic_record = COALESCE(panic_record, :panic)
                        WHERE incident_id = :id""")
                .setParameter("id", incidentId)
                .setParameter("panic", record)
                .executeUpdate();
    }

    /** Opens an incident for artifacts whose trigger has not arrived (yet); the trigger fills it in later. */
    public void openPlaceholder(
            String incidentId, String tenant, String hostId, String vmUuid, Instant now, Instant deadline) {
        entityManager
                .createNativeQuery("""
                        INSERT INTO incident (incident_id, tenant, host_id, vm_uuid, opened_at, deadline)
                        VALUES (:id, :tenant, :host, :vm, :now, :deadline)
                        ON CONFLICT (incident_id) DO NOTHING""")
                .setParameter("id", incidentId)
                .setParameter("tenant", tenant)
                .setParameter("host", hostId)
                .setParameter("vm", vmUuid)
                .setParameter("now", now)
                .setParameter("deadline", deadline)
                .executeUpdate();
    }

    /**
     * Records that {@code eventId} belongs to {@code incidentId}, unless it already belongs somewhere.
     *
     * @return the incident the event belongs to after this call
     */
    public String link(String eventId, String incidentId) {
        entityManager
                .createNativeQuery("""
                        INSERT INTO incident_trigger (event_id, incident_id) VALUES (:event, :incident)
                        ON CONFLICT (event_id) DO NOTHING""")
                .setParameter("event", eventId)
                .setParameter("incident", incidentId)
                .executeUpdate();
        return incidentOf(eventId).orElseThrow();
    }

    /** Drops an incident no event belongs to (a placeholder that lost a race to a coalesced trigger). */
    public void dropIfOrphan(String incidentId) {
        entityManager.createNativeQuery("""
                        DELETE FROM incident i WHERE incident_id = :id AND trigger IS NULL AND reported_at IS NULL
                          AND NOT EXISTS (SELECT 1 FROM incident_trigger t WHERE t.incident_id = i.incident_id)""").setParameter("id", incidentId).executeUpdate();
    }

    /** Keeps the first capture plan an incident's artifacts announce. */
    public void plan(String incidentId, List<String> kinds) {
        entityManager
                .createNativeQuery("""
                        UPDATE incident SET capture_plan = COALESCE(capture_plan, CAST(:plan AS text[]))
                        WHERE incident_id = :id""")
                .setParameter("id", incidentId)
                .setParameter("plan", "{" + String.join(",", kinds) + "}")
                .executeUpdate();
    }

    /** Whether the incident's crash report has gone out. */
    public boolean reported(String incidentId) {
        return !entityManager
                .createNativeQuery(
                        "SELECT 1 FROM incident WHERE incident_id = :id AND reported_at IS NOT NULL", Integer.class)
                .setParameter("id", incidentId)
                .getResultList()
                .isEmpty();
    }

    public IncidentEntity find(String incidentId) {
        return entityManager.find(IncidentEntity.class, incidentId);
    }

    /**
     * What deciding whether an open incident's report is due needs, and nothing more (no trigger records).
     *
     * @param trigger null while only artifacts have arrived
     * @param capturePlan null when the agent announced none
     * @param statuses artifact kind to the verification statuses of the incident's artifacts of that kind
     * @param provisional whether its provisional report was published
     */
    public record OpenIncident(
            String incidentId,
            String trigger,
            Instant deadline,
            List<String> capturePlan,
            Map<String, Set<String>> statuses,
            boolean provisional) {}

    /** Open incidents, soonest deadline first, with their artifacts' statuses: one query. */
    public List<OpenIncident> openWithEvidence(int limit) {
        return entityManager.unwrap(Session.class).doReturningWork(connection -> {
            Map<String, OpenIncident> open = new LinkedHashMap<>();
            try (PreparedStatement select = connection.prepareStatement("""
                    WITH o AS (
                        SELECT incident_id, trigger, deadline, capture_plan, provisional_at FROM incident
                        WHERE reported_at IS NULL ORDER BY deadline, incident_id LIMIT ?)
                    SELECT o.incident_id, o.trigger, o.deadline, o.capture_plan, a.kind, a.status,
                        o.provisional_at IS NOT NULL
                    FROM o LEFT JOIN incident_trigger t ON t.incident_id = o.incident_id
                        LEFT JOIN artifact a ON a.incident_id = t.event_id
                    ORDER BY o.deadline, o.incident_id""")) {
                select.setInt(1, limit);
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        Array plan = rs.getArray(4);
                        OpenIncident incident = open.computeIfAbsent(rs.getString(1), id -> {
                            try {
                                return new OpenIncident(
                                        id,
                                        rs.getString(2),
                                        rs.getTimestamp(3).toInstant(),
                                        plan == null ? null : List.of((String[]) plan.getArray()),
                                        new HashMap<>(),
                                        rs.getBoolean(7));
                            } catch (SQLException e) {
                                throw new IllegalStateException(e);
                            }
                        });
                        if (rs.getString(5) != null) {
                            incident.statuses()
                                    .computeIfAbsent(rs.getString(5), k -> new HashSet<>())
                                    .add(rs.getString(6));
                        }
                    }
                }
            }
            return List.copyOf(open.values());
        });
    }

    /** An open incident, locked for reporting; empty if another replica holds it or it was reported. */
    public Optional<IncidentEntity> claim(String incidentId) {
        return entityManager
                .createNativeQuery("""
                        SELECT * FROM incident WHERE incident_id = :id AND reported_at IS NULL
                        FOR UPDATE SKIP LOCKED""", IncidentEntity.class)
                .setParameter("id", incidentId)
                .getResultStream()
                .map(IncidentEntity.class::cast)
                .findFirst();
    }

    /**
     * Which incidents a listing shows; null criteria are left out.
     *
     * @param open true for incidents not reported yet, false for reported ones
     * @param complete whether the report had every expected kind of evidence (reported incidents only)
     * @param trigger CRASH, HANG, WATCHDOG, IO_ERROR or INTERRUPT
     */
    public record Filter(Boolean open, Boolean complete, String trigger, String hostId, String vmUuid) {}

    /** How many incidents the filter selects. */
    public long count(Filter filter) {
        var query = entityManager.createQuery("SELECT count(i) FROM IncidentEntity i" + where(filter), Long.class);
        bind(query, filter);
        return query.getSingleResult();
    }

    /** One page of the incidents the filter selects, the most recently opened first. */
    public List<IncidentEntity> page(Filter filter, int page, int size) {
        var query = entityManager.createQuery(
                "SELECT i FROM IncidentEntity i" + where(filter) + " ORDER BY i.openedAt DESC, i.incidentId",
                IncidentEntity.class);
        bind(query, filter);
        return query.setFirstResult(page * size).setMaxResults(size).getResultList();
    }

    private static String where(Filter f) {
        List<String> terms = new java.util.ArrayList<>();
        if (f.open() != null) {
            terms.add(f.open() ? "i.reportedAt IS NULL" : "i.reportedAt IS NOT NULL");
        }
        if (f.complete() != null) {
            terms.add("i.complete = :complete");
        }
        if (f.trigger() != null) {
            terms.add("i.trigger = :trigger");
        }
        if (f.hostId() != null) {
            terms.add("i.hostId = :host");
        }
        if (f.vmUuid() != null) {
            terms.add("i.vmUuid = :vm");
        }
        return terms.isEmpty() ? "" : " WHERE " + String.join(" AND ", terms);
    }

    private static void bind(jakarta.persistence.TypedQuery<?> query, Filter f) {
        if (f.complete() != null) {
            query.setParameter("complete", f.complete());
        }
        if (f.trigger() != null) {
            query.setParameter("trigger", f.trigger());
        }
        if (f.hostId() != null) {
            query.setParameter("host", f.hostId());
        }
        if (f.vmUuid() != null) {
            query.setParameter("vm", f.vmUuid());
        }
    }

    /** The artifacts that belong to an incident, whichever of its trigger event ids they named. */
    public List<ArtifactEntity> artifacts(String incidentId) {
        return entityManager
                .createQuery("""
                        SELECT a FROM ArtifactEntity a, IncidentTriggerEntity t
                        WHERE a.incidentId = t.eventId AND t.incidentId = :id
                        ORDER BY a.occurredAt, a.eventId""", ArtifactEntity.class)
                .setParameter("id", incidentId)
                .getResultList();
    }
}
