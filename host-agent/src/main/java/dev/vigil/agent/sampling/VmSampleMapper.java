package dev.vigil.agent.sampling;

import dev.vigil.agent.hypervisor.DomainStats;
import dev.vigil.schemas.agent.BlockSample;
import dev.vigil.schemas.agent.NetSample;
import dev.vigil.schemas.agent.VcpuSample;
import dev.vigil.schemas.agent.VmSample;
import dev.vigil.schemas.common.VmRef;
import java.util.ArrayList;
import java.util.List;

/** Maps libvirt's all-domain statistics (field names as libvirt documents them) to a {@link VmSample}. */
final class VmSampleMapper {

    // virDomainState, in declaration order.
    private static final String[] STATES = {
        "NOSTATE", "RUNNING", "BLOCKED", "PAUSED", "SHUTDOWN", "SHUTOFF", "CRASHED", "PMSUSPENDED"
    };

    private VmSampleMapper() {}

    static String state(DomainStats stats) {
        Long state = stats.number("state.state");
        return state == null || state < 0 || state >= STATES.length ? "UNKNOWN" : STATES[state.intValue()];
    }

    static VmSample toSample(DomainStats stats, VmRef vm) {
        List<VcpuSample> vcpus = new ArrayList<>();
        long vcpuCount = orZero(stats.number("vcpu.current"));
        for (int i = 0; i < vcpuCount; i++) {
            Long time = stats.number("vcpu." + i + ".time");
            if (time != null) {
                vcpus.add(VcpuSample.newBuilder().setIndex(i).setTimeNanos(time).build());
            }
        }
        List<BlockSample> blocks = new ArrayList<>();
        for (int i = 0; i < orZero(stats.number("block.count")); i++) {
            String p = "block." + i + ".";
            blocks.add(BlockSample.newBuilder()
                    .setDevice(stats.text(p + "name") == null ? "block" + i : stats.text(p + "name"))
                    .setReadBytes(orZero(stats.number(p + "rd.bytes")))
                    .setWriteBytes(orZero(stats.number(p + "wr.bytes")))
                    .setReadRequests(orZero(stats.number(p + "rd.reqs")))
                    .setWriteRequests(orZero(stats.number(p + "wr.reqs")))
                    .setAllocationBytes(stats.number(p + "allocation"))
                    .setCapacityBytes(stats.number(p + "capacity"))
                    .build());
        }
        List<NetSample> nets = new ArrayList<>();
        for (int i = 0; i < orZero(stats.number("net.count")); i++) {
            String p = "net." + i + ".";
            nets.add(NetSample.newBuilder()
                    .setDevice(stats.text(p + "name") == null ? "net" + i : stats.text(p + "name"))
                    .setRxBytes(orZero(stats.number(p + "rx.bytes")))
                    .setTxBytes(orZero(stats.number(p + "tx.bytes")))
                    .setRxDrops(orZero(stats.number(p + "rx.drop")))
                    .setTxDrops(orZero(stats.number(p + "tx.drop")))
                    .build());
        }
        return VmSample.newBuilder()
                .setVm(vm)
                .setState(state(stats))
                .setCpuTimeNanos(stats.number("cpu.time"))
                .setVcpus(vcpus)
                .setBlocks(blocks)
                .setNets(nets)
                .setBalloonCurrentKib(stats.number("balloon.current"))
                .setBalloonRssKib(stats.number("balloon.rss"))
                .build();
    }

    private static long orZero(Long value) {
        return value == null ? 0 : value;
    }
}
