package dev.vigil.agent.hypervisor;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Pointer;
import dev.vigil.agent.mapping.AgentEventMapper;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.BlockThreshold;
import dev.vigil.schemas.agent.IoError;
import dev.vigil.schemas.agent.IoErrorAction;
import dev.vigil.schemas.agent.MemoryFailure;
import dev.vigil.schemas.agent.MemoryFailureAction;
import dev.vigil.schemas.agent.MemoryFailureRecipient;
import dev.vigil.schemas.agent.Watchdog;
import dev.vigil.schemas.agent.WatchdogAction;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The events libvirt's test driver registers but never fires (watchdog, I/O error, block threshold, memory
 * failure), covered at the JNA callback boundary: real registration on a real libvirt connection, and each
 * callback invoked with a real native domain pointer, through to the Avro event the agent publishes.
 */
class NativeDomainEventsIT {

    private final BlockingQueue<HypervisorEvent> queue = new LinkedBlockingQueue<>();
    private final AgentEventMapper mapper = new AgentEventMapper("host-1", "agent-1", "test", "acme");
    private LibvirtEventLoop loop;
    private VigilConnect connection;
    private NativeDomainEvents events;
    private Pointer dom;

    @BeforeEach
    void connect() throws Exception {
        loop = LibvirtEventLoop.start();
        connection = new VigilConnect("test:///default");
        events = NativeDomainEvents.register(connection, queue);
        dom = LibvirtNative.LIB.virDomainLookupByName(connection.pointer(), "test");
    }

    @AfterEach
    void disconnect() throws Exception {
        LibvirtNative.LIB.virDomainFree(dom);
        events.close();
        connection.close();
    }

    @Test
    void registersAllFourCallbacksWithLibvirt() {
        assertThat(events.registered()).isEqualTo(4);
    }

    @Test
    void watchdogPauseBecomesAWatchdogEventForThatVm() throws Exception {
        events.watchdog.invoke(connection.pointer(), dom, 1, Pointer.NULL);

        AgentEvent event = single();
        assertThat(event.getVm().getName()).isEqualTo("test");
        assertThat(event.getVm().getUuid()).isEqualTo("6695eb01-f6a4-8304-79aa-97f2502e193f");
        assertThat(((Watchdog) event.getPayload()).getAction()).isEqualTo(WatchdogAction.PAUSE);
    }

    @Test
    void ioErrorKeepsDeviceAndReason() throws Exception {
        events.ioError.invoke(
                connection.pointer(), dom, "/var/lib/vm/disk.qcow2", "virtio-disk0", 1, "enospc", Pointer.NULL);

        IoError payload = (IoError) single().getPayload();
        assertThat(payload.getReason()).isEqualTo("enospc");
        assertThat(payload.getDevice()).isEqualTo("virtio-disk0");
        assertThat(payload.getPath()).isEqualTo("/var/lib/vm/disk.qcow2");
        assertThat(payload.getAction()).isEqualTo(IoErrorAction.PAUSE);
    }

    @Test
    void blockThresholdKeepsItsNumbers() throws Exception {
        events.blockThreshold.invoke(
                connection.pointer(), dom, "vda", "/dev/vg/lv", 10_737_418_240L, 4096L, Pointer.NULL);

        BlockThreshold payload = (BlockThreshold) single().getPayload();
        assertThat(payload.getThresholdBytes()).isEqualTo(10_737_418_240L);
        assertThat(payload.getExcessBytes()).isEqualTo(4096L);
    }

    @Test
    void memoryFailureDecodesRecipientActionAndFlags() throws Exception {
        events.memoryFailure.invoke(connection.pointer(), dom, 1, 2, 3, Pointer.NULL);

        MemoryFailure payload = (MemoryFailure) single().getPayload();
        assertThat(payload.getRecipient()).isEqualTo(MemoryFailureRecipient.GUEST);
        assertThat(payload.getAction()).isEqualTo(MemoryFailureAction.FATAL);
        assertThat(payload.getActionRequired()).isTrue();
        assertThat(payload.getRecursive()).isTrue();
    }

    @Test
    void unknownActionCodesMapToUnknownNotToAnError() throws Exception {
        events.watchdog.invoke(connection.pointer(), dom, 99, Pointer.NULL);

        assertThat(((Watchdog) single().getPayload()).getAction()).isEqualTo(WatchdogAction.UNKNOWN);
    }

    @Test
    void allDomainStatsReadsTheTestDomainsState() {
        var stats = new DomainStatsReader(connection).read();

        assertThat(stats).anySatisfy(s -> {
            assertThat(s.vmName()).isEqualTo("test");
            assertThat(s.number("state.state")).isEqualTo(1L);
        });
    }

    private AgentEvent single() throws InterruptedException {
        HypervisorEvent event = queue.poll(5, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(event).isNotNull();
        var mapped = mapper.fromHypervisor(event);
        assertThat(mapped).hasSize(1);
        return mapped.get(0);
    }
}
