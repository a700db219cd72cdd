package dev.vigil.ingestion.service;

import dev.vigil.ingestion.persistence.SampleRepository.SampleRecord;
import dev.vigil.ingestion.persistence.SampleRepository.VmRow;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.agent.AgentSamples;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.generic.GenericRecord;

/**
 * The part of an {@code AgentSamples} record ingestion keeps: the envelope, the time, and per VM its state and the
 * counters the VM row sums. Samples are the bulk of agent traffic, and the rest of each record (vCPU times, device
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

    private SampleProjection() {}

    /** The stored view of a record decoded (and validated) through {@link #PROJECTION}. */
    static SampleRecord of(GenericRecord samples) {
        GenericRecord envelope = (GenericRecord) samples.get("envelope");
        GenericRecord source = (GenericRecord) envelope.get("source");
        List<?> vms = (List<?>) samples.get("vms");
        List<VmRow> rows = new ArrayList<>(vms.size());
        for (Object item : vms) {
            GenericRecord vm = (GenericRecord) item;
            long read = 0;
            long written = 0;
            for (Object block : (List<?>) vm.get("blocks")) {
                read += (Long) ((GenericRecord) block).get("readBytes");
                written += (Long) ((GenericRecord) block).get("writeBytes");
            }
            long received = 0;
            long sent = 0;
            for (Object net : (List<?>) vm.get("nets")) {
                received += (Long) ((GenericRecord) net).get("rxBytes");
                sent += (Long) ((GenericRecord) net).get("txBytes");
            }
            rows.add(new VmRow(
                    ((GenericRecord) vm.get("vm")).get("uuid").toString(),
                    vm.get("state").toString(),
                    (Long) vm.get("cpuTimeNanos"),
                    read,
                    written,
                    received,
                    sent,
                    (Long) vm.get("balloonCurrentKib")));
        }
        return new SampleRecord(
                envelope.get("eventId").toString(),
                source.get("hostId").toString(),
                (Instant) samples.get("sampledAt"),
                rows);
    }
}
