package dev.vigil.ingestion;

import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.agent.LifecycleState;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.common.VmRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Several host agents publishing a steady stream (lifecycle events, heartbeats, and every so often a crash of a fresh
 * VM whose console text follows), each record sent again until the broker acknowledges it, as an agent's spool does.
 * Only acknowledged records count as published; a crash's evidence is uploaded and announced beside the stream, so an
 * object store that is down holds back the evidence, not the events.
 */
final class SteadyTraffic implements AutoCloseable {

    private static final int CRASH_EVERY = 40;
    private static final int HEARTBEAT_EVERY = 5;
    private static final long RETRY_MILLIS = 500;

    private final List<AgentTraffic> hosts = new ArrayList<>();
    private final long pauseMillis;
    private final ExecutorService senders;
    private final ExecutorService evidence;
    private final Set<String> events = ConcurrentHashMap.newKeySet();
    private final Set<String> manifests = ConcurrentHashMap.newKeySet();
    private final Set<String> incidents = ConcurrentHashMap.newKeySet();
    private final AtomicLong resends = new AtomicLong();
    private volatile boolean running;

    /** {@code hostCount} hosts, each publishing about {@code perSecond} records a second. */
    SteadyTraffic(Endpoints endpoints, int hostCount, int perSecond) {
        String run = UUID.randomUUID().toString().substring(0, 8);
        for (int i = 0; i < hostCount; i++) {
            hosts.add(new AgentTraffic(endpoints, "fault-" + run + "-host-" + i, vm()));
        }
        this.pauseMillis = 1000L / perSecond;
        this.senders = Executors.newFixedThreadPool(hostCount);
        this.evidence = Executors.newSingleThreadExecutor();
    }

    void start() {
        running = true;
        for (AgentTraffic host : hosts) {
            senders.submit(() -> publish(host));
        }
    }

    /** Stops publishing and waits until every crash's evidence is stored and announced. */
    void stop() throws InterruptedException {
        running = false;
        senders.shutdown();
        senders.awaitTermination(3, TimeUnit.MINUTES);
        evidence.shutdown();
        evidence.awaitTermination(3, TimeUnit.MINUTES);
    }

    /** Ids of the agent events the broker acknowledged. */
    Set<String> events() {
        return Set.copyOf(events);
    }

    /** Ids of the artifact manifests the broker acknowledged. */
    Set<String> manifests() {
        return Set.copyOf(manifests);
    }

    /** The incidents (crash event ids) whose crash the broker acknowledged. */
    Set<String> incidents() {
        return Set.copyOf(incidents);
    }

    /** Sends that failed and were made again. */
    long resends() {
        return resends.get();
    }

    /** Publishes a crash of a fresh VM now and returns its incident id; its evidence follows beside the stream. */
    String crash(AgentTraffic host) {
        VmRef vm = vm();
        AgentEvent crash = host.crash(vm, java.time.Instant.now(), 0x50L);
        sendUntilAcked(host, crash);
        String incident = crash.getEnvelope().getEventId();
        incidents.add(incident);
        evidence.submit(() -> announceEvidence(host, vm, incident));
        return incident;
    }

    AgentTraffic host(int index) {
        return hosts.get(index);
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        senders.shutdownNow();
        evidence.shutdownNow();
        senders.awaitTermination(30, TimeUnit.SECONDS);
        evidence.awaitTermination(30, TimeUnit.SECONDS);
        hosts.forEach(AgentTraffic::close);
    }

    private void publish(AgentTraffic host) {
        List<VmRef> vms = List.of(vm(), vm(), vm());
        for (VmRef vm : vms) {
            sendUntilAcked(host, host.event(lifecycle(LifecycleState.STARTED), java.time.Instant.now(), vm));
        }
        long n = 0;
        while (running) {
            n++;
            if (n % CRASH_EVERY == 0) {
                crash(host);
            } else if (n % HEARTBEAT_EVERY == 0) {
                sendUntilAcked(host, host.heartbeat(java.time.Instant.now()));
            } else {
                VmRef vm = vms.get((int) (n % vms.size()));
                LifecycleState state = n % 2 == 0 ? LifecycleState.SUSPENDED : LifecycleState.RESUMED;
                sendUntilAcked(host, host.event(lifecycle(state), java.time.Instant.now(), vm));
            }
            pause(pauseMillis);
        }
    }

    private void announceEvidence(AgentTraffic host, VmRef vm, String incident) {
        AgentTraffic.Blob blob = null;
        while (blob == null) {
            try {
                blob = host.store(2_000);
            } catch (Exception e) {
                // The object store is down: the agent keeps the evidence and tries again.
                resends.incrementAndGet();
                pause(RETRY_MILLIS);
            }
        }
        ArtifactManifest manifest =
                host.manifest(vm, incident, ArtifactKind.CONSOLE_TEXT, blob, List.of(ArtifactKind.CONSOLE_TEXT));
        while (true) {
            try {
                host.send(manifest);
                manifests.add(manifest.getEnvelope().getEventId());
                return;
            } catch (Exception e) {
                resends.incrementAndGet();
                pause(RETRY_MILLIS);
            }
        }
    }

    private void sendUntilAcked(AgentTraffic host, AgentEvent event) {
        while (true) {
            try {
                host.send(event);
                events.add(event.getEnvelope().getEventId());
                return;
            } catch (Exception e) {
                // Not acknowledged (the broker is down): the same record, with the same id, goes again.
                resends.incrementAndGet();
                pause(RETRY_MILLIS);
            }
        }
    }

    private static dev.vigil.schemas.agent.Lifecycle lifecycle(LifecycleState state) {
        return dev.vigil.schemas.agent.Lifecycle.newBuilder()
                .setState(state)
                .setReason("fault-test")
                .setSettled(true)
                .build();
    }

    private static VmRef vm() {
        return AgentTraffic.vm(UUID.randomUUID().toString(), "AcmeOS", "12.1");
    }

    private static void pause(long millis) {
        try {
            // Pacing of the load, not synchronisation.
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("traffic stopped", e);
        }
    }
}
