package dev.vigil.ingestion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.Ports;
import dev.vigil.devstack.ServiceProcess;
import dev.vigil.devstack.StaffTokens;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.common.VmRef;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.ArtifactStatus;
import dev.vigil.schemas.crash.CrashReported;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * The packaged ingestion service under a steady stream from several hosts while its dependencies fail one after
 * another on a stack of its own with a durable PostgreSQL (fsync and synchronous_commit on): PostgreSQL SIGKILLed and
 * started again, the broker stopped and started, the object store down for a minute, the service itself SIGKILLed
 * while it stores the stream. Nobody intervenes. Afterwards every acknowledged record is stored once and every
 * incident is reported once with its evidence; readiness said DOWN while PostgreSQL was gone. Prints the figures
 * (docs/reliability.md).
 * Runs in the failsafe execution {@code faults} ({@code -Dfaults}), a JVM with no in-process instance.
 */
class FaultIT {

    private static final Path APP = Path.of("target/quarkus-app/quarkus-run.jar");
    private static final Duration POSTGRES_DOWN = Duration.ofSeconds(10);
    private static final Duration BROKER_DOWN = Duration.ofSeconds(10);
    private static final Duration STORE_DOWN = Duration.ofSeconds(60);
    private static final Duration RECOVERY = Duration.ofSeconds(120);
    private static final int HOSTS = 4;
    private static final int PER_SECOND = 10;
    // The deadline is far away: every report must come from its evidence. A short session hands a killed member's
    // partitions over in seconds.
    private static final Map<String, String> SETTINGS = Map.of(
            "kafka.session.timeout.ms", "6000",
            "vigil.ingestion.tenants", "acme",
            "vigil.ingestion.incident-deadline", "PT10M",
            "vigil.ingestion.incident-check-every", "1s",
            "vigil.ingestion.artifact-verify-every", "1s");

    private final List<String> figures = new ArrayList<>();
    private Path logs;
    private int port;
    private ServiceProcess service;

    @Test
    void loseNothingAndRepeatNothingThroughEachFault() throws Exception {
        logs = Files.createTempDirectory("vigil-fault-it-");
        try (Devstack stack = Devstack.start(DevstackConfig.forTests().durablePostgres())) {
            Endpoints endpoints = stack.endpoints();
            // As a production database runs: a commit PostgreSQL acknowledged survives its crash.
            assertThat(ids(
                            endpoints,
                            "SELECT current_setting('fsync') || ' ' || current_setting('synchronous_commit')"))
                    .containsExactly("on on");
            figures.add("PostgreSQL fsync=on, synchronous_commit=on");
            try (SteadyTraffic traffic = new SteadyTraffic(endpoints, HOSTS, PER_SECOND);
                    TopicTail reports = new TopicTail(endpoints, TopicCatalog.CRASH_REPORTED)) {
                port = Ports.free();
                service = start(endpoints, "service-1.log");
                traffic.start();
                awaitStoredAtLeast(endpoints, 300);

                // PostgreSQL crashes under load and comes back on its own (a supervisor restarts it).
                stack.killPostgres();
                Instant killed = Instant.now();
                await().atMost(Duration.ofSeconds(30)).until(() -> ready() == 503);
                Duration noticed = Duration.between(killed, Instant.now());
                await().during(POSTGRES_DOWN)
                        .atMost(POSTGRES_DOWN.plusSeconds(5))
                        .until(() -> ready() == 503 && service.isAlive());
                Set<String> sent = traffic.events();
                stack.startPostgres();
                Instant restored = Instant.now();
                await().atMost(RECOVERY).until(() -> ready() == 200);
                Duration readyAgain = Duration.between(restored, Instant.now());
                Duration caughtUp = awaitStored(endpoints, sent, restored);
                figures.add(String.format(
                        "postgresql SIGKILL, down %d s: readiness DOWN after %.1f s, UP %.1f s after restart,"
                                + " backlog stored %.1f s after restart",
                        POSTGRES_DOWN.toSeconds(), seconds(noticed), seconds(readyAgain), seconds(caughtUp)));

                // The broker goes away and comes back.
                stack.stopKafka();
                await().during(BROKER_DOWN).atMost(BROKER_DOWN.plusSeconds(5)).until(service::isAlive);
                boolean readyDuringBrokerOutage = ready() == 200;
                stack.startKafka();
                restored = Instant.now();
                awaitPublishedAgain(traffic);
                caughtUp = awaitStored(endpoints, traffic.events(), restored);
                await().atMost(RECOVERY).until(() -> ready() == 200);
                readyAgain = Duration.between(restored, Instant.now());
                figures.add(String.format(
                        "broker stopped %d s: readiness %s at its end, UP %.1f s after restart, backlog stored %.1f s"
                                + " after restart",
                        BROKER_DOWN.toSeconds(),
                        readyDuringBrokerOutage ? "UP" : "DOWN",
                        seconds(readyAgain),
                        seconds(caughtUp)));

                // The object store is down for a minute, right after evidence was stored and before it is announced:
                // verification meets the outage and must finish once the store is back.
                AgentTraffic host = traffic.host(0);
                List<String> heldBack = new ArrayList<>();
                List<Runnable> announcements = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    VmRef vm = AgentTraffic.vm(UUID.randomUUID().toString(), "AcmeOS", "12.1");
                    AgentEvent crash = host.crash(vm, Instant.now(), 0x50L);
                    host.send(crash);
                    String incident = crash.getEnvelope().getEventId();
                    heldBack.add(incident);
                    AgentTraffic.Blob blob = host.store(2_000);
                    announcements.add(() -> {
                        try {
                            host.send(host.manifest(
                                    vm, incident, ArtifactKind.CONSOLE_TEXT, blob, List.of(ArtifactKind.CONSOLE_TEXT)));
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });
                }
                stack.stopObjectStore();
                announcements.forEach(Runnable::run);
                boolean readyDuringStoreOutage = ready() == 200;
                await().during(STORE_DOWN)
                        .atMost(STORE_DOWN.plusSeconds(5))
                        .until(() -> service.isAlive() && heldBack.stream().noneMatch(i -> reported(reports, i)));
                stack.startObjectStore();
                restored = Instant.now();
                await().atMost(RECOVERY).until(() -> heldBack.stream().allMatch(i -> reported(reports, i)));
                Duration verified = Duration.between(restored, Instant.now());
                figures.add(String.format(
                        "object store down %d s: readiness %s during it; held-back evidence verified and its %d"
                                + " incidents reported %.1f s after restart",
                        STORE_DOWN.toSeconds(),
                        readyDuringStoreOutage ? "UP" : "DOWN",
                        heldBack.size(),
                        seconds(verified)));

                // The service dies mid-batch and its supervisor starts it again.
                int before = stored(endpoints).size();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> stored(endpoints).size() > before + 50);
                sent = traffic.events();
                service.kill();
                Instant died = Instant.now();
                service = start(endpoints, "service-2.log");
                Duration restarted = Duration.between(died, Instant.now());
                caughtUp = awaitStored(endpoints, sent, died);
                figures.add(String.format(
                        "service SIGKILL mid-batch: ready again %.1f s after the kill, backlog stored %.1f s after"
                                + " the kill",
                        seconds(restarted), seconds(caughtUp)));

                traffic.stop();
                Set<String> events = traffic.events();
                Set<String> manifests = traffic.manifests();
                Set<String> incidents = new HashSet<>(traffic.incidents());
                incidents.addAll(heldBack);
                Instant drained = Instant.now();
                awaitStored(endpoints, events, drained);
                await().atMost(RECOVERY).until(() -> incidents.stream().allMatch(i -> reported(reports, i)));
                // Keep reading a while: a report repeated late would be on the topic by then.
                await().during(Duration.ofSeconds(3))
                        .atMost(Duration.ofSeconds(5))
                        .until(() -> {
                            reports.poll();
                            return true;
                        });

                List<String> storedEvents = ids(endpoints, "SELECT event_id FROM ingestion.agent_event");
                List<String> storedManifests = ids(endpoints, "SELECT event_id FROM ingestion.artifact");
                Map<String, Integer> finalReports = finalReports(reports, incidents);
                int duplicatedReports = finalReports.values().stream()
                        .mapToInt(n -> Math.max(0, n - 1))
                        .sum();
                figures.add(String.format(
                        "agent events: sent %d, stored %d, lost %d, duplicated %d; manifests: sent %d, lost %d;"
                                + " incidents %d, final reports %d, duplicated %d; %d sends and uploads repeated by the agents",
                        events.size(),
                        storedEvents.stream().filter(events::contains).count(),
                        missing(events, storedEvents),
                        storedEvents.size() - new HashSet<>(storedEvents).size(),
                        manifests.size() + heldBack.size(),
                        missing(manifests, storedManifests),
                        incidents.size(),
                        finalReports.values().stream()
                                .mapToInt(Integer::intValue)
                                .sum(),
                        duplicatedReports,
                        traffic.resends()));
                figures.forEach(f -> System.out.println("FaultIT: " + f));

                assertThat(storedEvents).containsAll(events).doesNotHaveDuplicates();
                assertThat(storedManifests).containsAll(manifests);
                assertThat(finalReports)
                        .hasSize(incidents.size())
                        .allSatisfy((incident, count) -> assertThat(count)
                                .as("final reports of incident %s", incident)
                                .isEqualTo(1));
                for (String incident : heldBack) {
                    assertThat(finalReport(reports, incident).getArtifacts())
                            .extracting(ArtifactRef::getStatus)
                            .containsExactly(ArtifactStatus.VERIFIED);
                }
            } finally {
                if (service != null) {
                    service.kill();
                }
            }
        }
    }

    private ServiceProcess start(Endpoints endpoints, String log) throws Exception {
        Map<String, String> settings = new HashMap<>(SETTINGS);
        settings.put(
                "mp.jwt.verify.publickey.location",
                StaffTokens.ephemeral().publicKey().toUri().toString());
        ServiceProcess process = ServiceProcess.start(APP, endpoints, port, settings, logs.resolve(log));
        process.awaitReady("http://127.0.0.1:" + port, Duration.ofSeconds(90));
        return process;
    }

    private int ready() {
        return ServiceProcess.readiness("http://127.0.0.1:" + port);
    }

    /** Waits until the agents have had records acknowledged again after the broker came back. */
    private static void awaitPublishedAgain(SteadyTraffic traffic) {
        int before = traffic.events().size();
        await().atMost(RECOVERY).until(() -> traffic.events().size() > before + 20);
    }

    private static void awaitStoredAtLeast(Endpoints endpoints, int count) {
        await().atMost(RECOVERY).until(() -> stored(endpoints).size() >= count);
    }

    /** Waits until every id of {@code sent} is stored; returns how long that took from {@code from}. */
    private static Duration awaitStored(Endpoints endpoints, Set<String> sent, Instant from) {
        await().atMost(RECOVERY)
                .pollInterval(Duration.ofMillis(500))
                .until(() -> stored(endpoints).containsAll(sent));
        return Duration.between(from, Instant.now());
    }

    private static Set<String> stored(Endpoints endpoints) {
        try {
            return new HashSet<>(ids(endpoints, "SELECT event_id FROM ingestion.agent_event"));
        } catch (IllegalStateException e) {
            // PostgreSQL is down: nothing readable yet.
            return Set.of();
        }
    }

    private static List<String> ids(Endpoints endpoints, String query) {
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(query)) {
            List<String> ids = new ArrayList<>();
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
            return ids;
        } catch (SQLException e) {
            throw new IllegalStateException("reading ingestion's tables: " + e.getMessage(), e);
        }
    }

    private static long missing(Set<String> sent, List<String> stored) {
        Set<String> found = new HashSet<>(stored);
        return sent.stream().filter(id -> !found.contains(id)).count();
    }

    private static boolean reported(TopicTail reports, String incident) {
        return finalReports(reports, Set.of(incident)).containsKey(incident);
    }

    /** How many final (not provisional) reports each incident of {@code incidents} has on the topic. */
    private static Map<String, Integer> finalReports(TopicTail reports, Set<String> incidents) {
        Map<String, Integer> counts = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : reports.poll()) {
            CrashReported report = EventCodec.of(CrashReported.class).decode(record.value());
            String incident = report.getIncidentId();
            if (!report.getProvisional() && incidents.contains(incident)) {
                counts.merge(incident, 1, Integer::sum);
            }
        }
        return counts;
    }

    private static CrashReported finalReport(TopicTail reports, String incident) {
        return reports.poll().stream()
                .map(r -> EventCodec.of(CrashReported.class).decode(r.value()))
                .filter(r -> !r.getProvisional() && r.getIncidentId().equals(incident))
                .findFirst()
                .orElseThrow();
    }

    private static double seconds(Duration duration) {
        return duration.toMillis() / 1000.0;
    }
}
