package dev.vigil.ingestion.persistence;

import dev.vigil.ingestion.domain.VmRow;
import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import io.quarkus.panache.common.Page;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hibernate.Session;

/** The VM inventory. */
@ApplicationScoped
public class VmRepository implements PanacheRepositoryBase<VmEntity, String> {

    /**
     * The rows of the given VMs and of every running VM on the given hosts, locked until the transaction ends (in
     * UUID order, so concurrent polls lock them in one order).
     */
    public Map<String, VmRow> lockForPoll(Collection<String> vmUuids, Collection<String> hostIds) {
        Map<String, VmRow> rows = new HashMap<>();
        if (vmUuids.isEmpty() && hostIds.isEmpty()) {
            return rows;
        }
        getEntityManager().unwrap(Session.class).doWork(connection -> {
            try (PreparedStatement select = connection.prepareStatement("""
                    SELECT vm_uuid, name, host_id, tenant, product, release, state, state_reason, state_at, running,
                        counted_until, first_seen, last_seen
                    FROM vm WHERE vm_uuid = ANY(?) OR (host_id = ANY(?) AND running)
                    ORDER BY vm_uuid FOR UPDATE""")) {
                select.setArray(1, connection.createArrayOf("text", vmUuids.toArray()));
                select.setArray(2, connection.createArrayOf("text", hostIds.toArray()));
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        VmRow row = new VmRow(rs.getString(1));
                        row.name = rs.getString(2);
                        row.hostId = rs.getString(3);
                        row.tenant = rs.getString(4);
                        row.product = rs.getString(5);
                        row.release = rs.getString(6);
                        row.state = rs.getString(7);
                        row.stateReason = rs.getString(8);
                        row.stateAt = instant(rs.getTimestamp(9));
                        row.running = rs.getBoolean(10);
                        row.countedUntil = instant(rs.getTimestamp(11));
                        row.firstSeen = instant(rs.getTimestamp(12));
                        row.lastSeen = instant(rs.getTimestamp(13));
                        rows.put(row.vmUuid, row);
                    }
                }
            }
        });
        return rows;
    }

    /** Writes back the rows a poll changed, new ones included, with one statement. */
    public void writeBack(Collection<VmRow> rows) {
        List<VmRow> changed = rows.stream().filter(r -> r.changed).toList();
        if (changed.isEmpty()) {
            return;
        }
        int n = changed.size();
        String[][] text = new String[8][n];
        Timestamp[][] times = new Timestamp[4][n];
        Boolean[] running = new Boolean[n];
        for (int i = 0; i < n; i++) {
            VmRow r = changed.get(i);
            text[0][i] = r.vmUuid;
            text[1][i] = r.name;
            text[2][i] = r.hostId;
            text[3][i] = r.tenant;
            text[4][i] = r.product;
            text[5][i] = r.release;
            text[6][i] = r.state;
            text[7][i] = r.stateReason;
            times[0][i] = timestamp(r.stateAt);
            times[1][i] = timestamp(r.countedUntil);
            times[2][i] = timestamp(r.firstSeen);
            times[3][i] = timestamp(r.lastSeen);
            running[i] = r.running;
        }
        getEntityManager().unwrap(Session.class).doWork(connection -> {
            try (PreparedStatement upsert = connection.prepareStatement("""
                    INSERT INTO vm (vm_uuid, name, host_id, tenant, product, release, state, state_reason, state_at,
                        counted_until, first_seen, last_seen, running)
                    SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                        ?::text[], ?::timestamptz[], ?::timestamptz[], ?::timestamptz[], ?::timestamptz[], ?::bool[])
                    ON CONFLICT (vm_uuid) DO UPDATE SET
                        name = EXCLUDED.name, host_id = EXCLUDED.host_id, product = EXCLUDED.product,
                        release = EXCLUDED.release, state = EXCLUDED.state, state_reason = EXCLUDED.state_reason,
                        state_at = EXCLUDED.state_at, counted_until = EXCLUDED.counted_until,
                        first_seen = LEAST(vm.first_seen, EXCLUDED.first_seen),
                        last_seen = GREATEST(vm.last_seen, EXCLUDED.last_seen), running = EXCLUDED.running""")) {
                for (int c = 0; c < text.length; c++) {
                    upsert.setArray(1 + c, connection.createArrayOf("text", text[c]));
                }
                for (int c = 0; c < times.length; c++) {
                    upsert.setArray(9 + c, connection.createArrayOf("timestamptz", times[c]));
                }
                upsert.setArray(13, connection.createArrayOf("bool", running));
                upsert.executeUpdate();
            }
        });
    }

    private static Instant instant(Timestamp value) {
        return value == null ? null : value.toInstant();
    }

    private static Timestamp timestamp(Instant value) {
        return value == null ? null : Timestamp.from(value);
    }

    public List<VmEntity> page(int page, int size) {
        return findAll(Sort.by("lastSeen", Sort.Direction.Descending).and("vmUuid"))
                .page(Page.of(page, size))
                .list();
    }
}
