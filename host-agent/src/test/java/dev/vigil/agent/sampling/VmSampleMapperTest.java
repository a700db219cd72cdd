package dev.vigil.agent.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.agent.hypervisor.DomainStats;
import dev.vigil.schemas.agent.VmSample;
import dev.vigil.schemas.common.VmRef;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VmSampleMapperTest {

    @Test
    void mapsQemuStatisticsFieldsToASample() {
        Map<String, Object> fields = Map.ofEntries(
                Map.entry("state.state", 1L),
                Map.entry("cpu.time", 5_000_000_000L),
                Map.entry("vcpu.current", 2L),
                Map.entry("vcpu.0.time", 2_000_000_000L),
                Map.entry("vcpu.1.time", 2_500_000_000L),
                Map.entry("block.count", 1L),
                Map.entry("block.0.name", "vda"),
                Map.entry("block.0.rd.bytes", 1024L),
                Map.entry("block.0.wr.bytes", 2048L),
                Map.entry("block.0.rd.reqs", 3L),
                Map.entry("block.0.wr.reqs", 4L),
                Map.entry("block.0.capacity", 10_737_418_240L),
                Map.entry("net.count", 1L),
                Map.entry("net.0.name", "vnet0"),
                Map.entry("net.0.rx.bytes", 100L),
                Map.entry("net.0.tx.bytes", 200L),
                Map.entry("balloon.current", 262_144L));

        VmSample sample = VmSampleMapper.toSample(
                new DomainStats("uuid-1", "web-1", fields),
                VmRef.newBuilder().setUuid("uuid-1").setName("web-1").build());

        assertThat(sample.getState()).isEqualTo("RUNNING");
        assertThat(sample.getCpuTimeNanos()).isEqualTo(5_000_000_000L);
        assertThat(sample.getVcpus()).extracting(v -> v.getTimeNanos()).containsExactly(2_000_000_000L, 2_500_000_000L);
        assertThat(sample.getBlocks()).singleElement().satisfies(b -> {
            assertThat(b.getDevice()).isEqualTo("vda");
            assertThat(b.getWriteBytes()).isEqualTo(2048L);
            assertThat(b.getCapacityBytes()).isEqualTo(10_737_418_240L);
            assertThat(b.getAllocationBytes()).isNull();
        });
        assertThat(sample.getNets())
                .singleElement()
                .satisfies(n -> assertThat(n.getTxBytes()).isEqualTo(200L));
        assertThat(sample.getBalloonCurrentKib()).isEqualTo(262_144L);
    }

    @Test
    void aStateOnlyRecordStillMaps() {
        VmSample sample = VmSampleMapper.toSample(
                new DomainStats("u", "n", Map.of("state.state", 3L)),
                VmRef.newBuilder().setUuid("u").setName("n").build());

        assertThat(sample.getState()).isEqualTo("PAUSED");
        assertThat(sample.getCpuTimeNanos()).isNull();
        assertThat(sample.getBlocks()).isEmpty();
    }
}
