package dev.vigil.devstack;

import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.AgentStatus;
import dev.vigil.schemas.agent.AgentStatusKind;
import dev.vigil.schemas.agent.Crash;
import dev.vigil.schemas.agent.Lifecycle;
import dev.vigil.schemas.agent.LifecycleState;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * One host agent's traffic about VMs of one product release, published to {@code vigil.agent.events.v1} on the shared
 * stack as the agent publishes it (Avro {@code AgentEvent}s keyed by VM, or by host for its status), at times in the
 * past: VMs start, the host's heartbeats follow every five minutes (ingestion credits silence up to five minutes), and
 * VMs crash. A real ingestion service turns it into VM-hours in its uptime ledger and crash reports.
 */
public final class AgentFleet {

    /** How often the agent reports its status; ingestion credits silence up to five minutes. */
    public static final Duration HEARTBEAT = Duration.ofMinutes(5);

    private static final Pattern VM_HOURS = Pattern.compile("\"vmHours\"\\s*:\\s*([0-9.eE+-]+)");
    private static final Pattern RUNNING = Pattern.compile("\"running\"\\s*:\\s*true");

    private final String hostId = "host-" + UUID.randomUUID();
    private final String tenant;
    private final List<VmRef> vms = new ArrayList<>();
    private Instant heardUntil;

    /** {@code count} VMs of the release on a new host of {@code tenant}. */
    public AgentFleet(String tenant, String product, String release, int count) {
        this.tenant = tenant;
        for (int i = 0; i < count; i++) {
            String uuid = UUID.randomUUID().toString();
            vms.add(VmRef.newBuilder()
                    .setUuid(uuid)
                    .setName("vm-" + uuid.substring(0, 8))
                    .setProduct(product)
                    .setRelease(release)
                    .build());
        }
    }

    public String hostId() {
        return hostId;
    }

    public List<VmRef> vms() {
        return List.copyOf(vms);
    }

    /** The VMs start at {@code at}. */
    public AgentFleet start(Instant at) {
        List<AgentEvent> events = new ArrayList<>();
        for (VmRef vm : vms) {
            events.add(event(
                    Lifecycle.newBuilder()
                            .setState(LifecycleState.STARTED)
                            .setReason("BOOTED")
                            .setSettled(true)
                            .build(),
                    at,
                    vm));
        }
        publish(events);
        heardUntil = at;
        return this;
    }

    /**
     * Waits until ingestion (at {@code ingestionUrl}) lists every VM as running. Starts are keyed by VM and heartbeats
     * by host, so they travel on different partitions: heartbeats read before a VM's start credit it nothing. {@code
     * token} is a bearer token with a role that reads ingestion's API.
     */
    public AgentFleet awaitRunning(String ingestionUrl, String token, Duration timeout) {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        for (VmRef vm : vms) {
            HttpRequest request = HttpRequest.newBuilder(URI.create(ingestionUrl + "/api/v1/vms/" + vm.getUuid()))
                    .header("Authorization", "Bearer " + token)
                    .timeout(Duration.ofSeconds(5))
                    .build();
            while (true) {
                try {
                    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() == 200
                            && RUNNING.matcher(response.body()).find()) {
                        break;
                    }
                } catch (IOException e) {
                    // Not answering yet.
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new DevstackException("interrupted waiting for VM " + vm.getUuid(), e);
                }
                if (System.nanoTime() > deadline) {
                    throw new DevstackException("ingestion does not list VM " + vm.getUuid() + " as running after "
                            + timeout.toSeconds() + " s");
                }
                sleep();
            }
        }
        return this;
    }

    /**
     * A release's VM-hours in ingestion's uptime ledger over the last 365 days. Crash events must wait until the
     * heartbeats dated before them are in: a VM's crash read first would stop its clock early.
     */
    public static double vmHours(String ingestionUrl, String token, String product, String release) {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        URI uri = URI.create(ingestionUrl + "/api/v1/fleet/uptime?from=" + today.minusDays(365) + "&to=" + today
                + "&product=" + URLEncoder.encode(product, StandardCharsets.UTF_8) + "&release="
                + URLEncoder.encode(release, StandardCharsets.UTF_8));
        try {
            HttpResponse<String> response = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(uri)
                                    .header("Authorization", "Bearer " + token)
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new DevstackException(
                        "ingestion's uptime answered " + response.statusCode() + ": " + response.body());
            }
            double hours = 0;
            Matcher matcher = VM_HOURS.matcher(response.body());
            while (matcher.find()) {
                hours += Double.parseDouble(matcher.group(1));
            }
            return hours;
        } catch (IOException e) {
            throw new DevstackException("ingestion's uptime at " + uri + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DevstackException("interrupted", e);
        }
    }

    /** Waits until ingestion's ledger holds at least {@code hours} for the release; returns what it holds. */
    public static double awaitVmHours(
            String ingestionUrl, String token, String product, String release, double hours, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            double held = vmHours(ingestionUrl, token, product, release);
            if (held >= hours) {
                return held;
            }
            if (System.nanoTime() > deadline) {
                throw new DevstackException(product + " " + release + " has " + held + " VM-hours in ingestion's"
                        + " ledger after " + timeout.toSeconds() + " s, not " + hours);
            }
            sleep();
        }
    }

    /** The host reports every five minutes until {@code until}, which is in the past. */
    public AgentFleet heartbeatsUntil(Instant until) {
        List<AgentEvent> events = new ArrayList<>();
        for (Instant t = heardUntil.plus(HEARTBEAT); !t.isAfter(until); t = t.plus(HEARTBEAT)) {
            events.add(event(
                    AgentStatus.newBuilder()
                            .setStatus(AgentStatusKind.HEARTBEAT)
                            .setHypervisorUri("qemu:///system")
                            .setDomainsWatched(vms.size())
                            .build(),
                    t,
                    null));
            heardUntil = t;
        }
        publish(events);
        return this;
    }

    /** The {@code n} first VMs' guests panic at {@code at}, as the agent reports a pvpanic crash. */
    public AgentFleet crash(int n, Instant at) {
        List<AgentEvent> events = new ArrayList<>();
        for (VmRef vm : vms.subList(0, n)) {
            events.add(event(Crash.newBuilder().setReason("PANICKED").build(), at, vm));
        }
        publish(events);
        return this;
    }

    private static void sleep() {
        try {
            Thread.sleep(250);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DevstackException("interrupted", e);
        }
    }

    private AgentEvent event(SpecificRecord payload, Instant at, VmRef vm) {
        Source source = Source.newBuilder()
                .setHostId(hostId)
                .setAgentId(hostId + "-agent")
                .setAgentVersion("1.4.0")
                .build();
        return AgentEvent.newBuilder()
                .setEnvelope(Envelopes.create(AgentEvent.class, payload.getSchema(), source, tenant, at))
                .setVm(vm)
                .setPayload(payload)
                .build();
    }

    private void publish(List<AgentEvent> events) {
        try (KafkaProducer<byte[], byte[]> producer =
                Devstack.shared().endpoints().agentProducer()) {
            for (AgentEvent e : events) {
                String key = e.getVm() == null ? hostId : e.getVm().getUuid();
                RecordHeaders headers = new RecordHeaders();
                CloudEventHeaders.write(headers, e.getEnvelope());
                producer.send(new ProducerRecord<>(
                        TopicCatalog.AGENT_EVENTS.name(),
                        null,
                        key.getBytes(StandardCharsets.UTF_8),
                        EventCodec.of(AgentEvent.class).encode(e),
                        headers));
            }
            producer.flush();
        }
    }
}
