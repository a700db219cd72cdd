package dev.vigil.ingestion.service;

import dev.vigil.ingestion.persistence.SampleRepository.SampleRecord;
import dev.vigil.ingestion.persistence.SampleRepository.VmRow;
import dev.vigil.schemas.DeadLetterReason;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.agent.AgentSamples;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.IndexedRecord;

/**
 * The part of an {@code AgentSamples} record ingestion keeps: the envelope, the time, and per VM its state and the
 * counters its stored row sums. Samples are the bulk of agent traffic, and the rest of each record (vCPU times, device
 * names, request and drop counters, host power) is the energy service's: decoding through this projection skips it
 * without building it.
 */
final class SampleProjection {

    static final EventCodec.Projection PROJECTION = EventCodec.of(AgentSamples.class)
            .projection(List.of(
                    "envelope",
                    "sampledAt",
                    "vms.vm.uuid",
                    "vms.state",
                    "vms.cpuTimeNanos",
                    "vms.blocks.readBytes",
                    "vms.blocks.writeBytes",
                    "vms.nets.rxBytes",
                    "vms.nets.txBytes",
                    "vms.balloonCurrentKib"));

    // Field positions in the projected schema, resolved once: a lookup by name hashes the name on every access.
    private static final Path ENVELOPE = Path.of(PROJECTION.schema(), "envelope");
    private static final Path EVENT_ID = ENVELOPE.then("eventId");
    private static final Path SOURCE = ENVELOPE.then("source");
    private static final Path HOST_ID = SOURCE.then("hostId");
    private static final Path SAMPLED_AT = Path.of(PROJECTION.schema(), "sampledAt");
    private static final Path VMS = Path.of(PROJECTION.schema(), "vms");
    private static final Path VM = VMS.item("vm");
    private static final Path VM_UUID = VM.then("uuid");
    private static final Path STATE = VMS.item("state");
    private static final Path CPU_TIME = VMS.item("cpuTimeNanos");
    private static final Path BALLOON = VMS.item("balloonCurrentKib");
    private static final Path BLOCKS = VMS.item("blocks");
    private static final Path READ_BYTES = BLOCKS.item("readBytes");
    private static final Path WRITE_BYTES = BLOCKS.item("writeBytes");
    private static final Path NETS = VMS.item("nets");
    private static final Path RX_BYTES = NETS.item("rxBytes");
    private static final Path TX_BYTES = NETS.item("txBytes");

    /** Records with at most this many VMs are checked for a repeated VM pairwise, larger ones through a map. */
    private static final int SMALL_RECORD = 32;

    private SampleProjection() {}

    /**
     * The stored view of a record decoded (and validated) through {@link #PROJECTION}. VM ids are stored as
     * PostgreSQL {@code uuid}s, so each must be one; they are kept in lower case, the order the database sorts them
     * in.
     *
     * @throws ValidationException {@code MALFORMED} when a VM's id is not a UUID, or names a VM the record has
     *     already sampled (a record is one sampling of a host: each VM once)
     */
    static SampleRecord of(GenericRecord samples) throws ValidationException {
        IndexedRecord envelope = (IndexedRecord) ENVELOPE.of(samples);
        List<?> vms = (List<?>) VMS.of(samples);
        List<VmRow> rows = new ArrayList<>(vms.size());
        for (int i = 0; i < vms.size(); i++) {
            IndexedRecord vm = (IndexedRecord) vms.get(i);
            String uuid = VM_UUID.of((IndexedRecord) VM.of(vm)).toString();
            if (!RecordValidator.isUuid(uuid)) {
                throw new ValidationException(
                        DeadLetterReason.MALFORMED, "vms[" + i + "].vm.uuid is not a UUID: " + quoted(uuid));
            }
            long read = 0;
            long written = 0;
            for (Object block : (List<?>) BLOCKS.of(vm)) {
                read += (Long) READ_BYTES.of((IndexedRecord) block);
                written += (Long) WRITE_BYTES.of((IndexedRecord) block);
            }
            long received = 0;
            long sent = 0;
            for (Object net : (List<?>) NETS.of(vm)) {
                received += (Long) RX_BYTES.of((IndexedRecord) net);
                sent += (Long) TX_BYTES.of((IndexedRecord) net);
            }
            rows.add(new VmRow(
                    uuid.toLowerCase(Locale.ROOT),
                    STATE.of(vm).toString(),
                    (Long) CPU_TIME.of(vm),
                    read,
                    written,
                    received,
                    sent,
                    (Long) BALLOON.of(vm)));
        }
        requireDistinct(rows);
        return new SampleRecord(
                EVENT_ID.of(envelope).toString(),
                HOST_ID.of((IndexedRecord) SOURCE.of(envelope)).toString(),
                (Instant) SAMPLED_AT.of(samples),
                rows);
    }

    /** Refuses a record that samples a VM twice: its row would show the VM twice in the same bucket. */
    private static void requireDistinct(List<VmRow> rows) throws ValidationException {
        int n = rows.size();
        if (n <= SMALL_RECORD) {
            // Pairwise: distinct UUIDs almost always differ in their first characters, so this is cheaper than
            // hashing every id.
            for (int i = 1; i < n; i++) {
                String uuid = rows.get(i).uuid();
                for (int j = 0; j < i; j++) {
                    if (uuid.equals(rows.get(j).uuid())) {
                        throw repeated(i, j, uuid);
                    }
                }
            }
            return;
        }
        Map<String, Integer> seen = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            Integer earlier = seen.putIfAbsent(rows.get(i).uuid(), i);
            if (earlier != null) {
                throw repeated(i, earlier, rows.get(i).uuid());
            }
        }
    }

    private static ValidationException repeated(int index, int earlier, String uuid) {
        return new ValidationException(
                DeadLetterReason.MALFORMED, "vms[" + index + "].vm.uuid repeats vms[" + earlier + "]: " + quoted(uuid));
    }

    /** At most 40 characters of untrusted text, for an error message. */
    private static String quoted(String text) {
        return '"' + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + '"';
    }

    /** A field's position in its record's schema, and that field's schema (unions unwrapped to their non-null type). */
    private record Path(int position, Schema schema) {

        static Path of(Schema record, String name) {
            Schema.Field field = record.getField(name);
            if (field == null) {
                throw new IllegalStateException(record.getFullName() + " has no field " + name);
            }
            return new Path(field.pos(), nonNull(field.schema()));
        }

        /** A field of this record field. */
        Path then(String name) {
            return of(schema, name);
        }

        /** A field of this array field's items. */
        Path item(String name) {
            return of(nonNull(schema.getElementType()), name);
        }

        Object of(IndexedRecord record) {
            return record.get(position);
        }

        private static Schema nonNull(Schema schema) {
            if (schema.getType() != Schema.Type.UNION) {
                return schema;
            }
            return schema.getTypes().stream()
                    .filter(t -> t.getType() != Schema.Type.NULL)
                    .findFirst()
                    .orElseThrow();
        }
    }
}
