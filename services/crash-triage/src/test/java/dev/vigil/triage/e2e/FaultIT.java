package dev.vigil.triage.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.Ports;
import dev.vigil.devstack.ServiceProcess;
import dev.vigil.devstack.StaffTokens;
import dev.vigil.schemas.TopicCatalog;
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
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/**
 * The packaged crash-triage service under a steady stream of crash reports (each incident's provisional report, then
 * its report with evidence, which moves it to another bucket) while, on a stack of its own with a durable PostgreSQL,
 * PostgreSQL is SIGKILLed and started again, the broker is stopped and started, and the service itself is SIGKILLed
 * mid-stream. Nobody intervenes. Afterwards every incident is filed once, every bucket counts exactly the reports in
 * it, nothing went to the dead-letter topic, and readiness said DOWN while PostgreSQL was gone. Prints the figures
 * (docs/reliability.md). Runs in the failsafe execution {@code faults} ({@code -Dfaults}).
 */
class FaultIT {

    private static final Path APP = Path.of("target/quarkus-app/quarkus-run.jar");
    // Longer than triage's in-place retries of one report (1 + 2 + 4 + 8 + 16 s): the outage must be waited out, not
    // retried away.
    private static final Duration POSTGRES_DOWN = Duration.ofSeconds(40);
    private static final Duration BROKER_DOWN = Duration.ofSeconds(10);
    private static final Duration RECOVERY = Duration.ofSeconds(120);
    private static final int INCIDENTS_PER_SECOND = 10;
    // A short session hands a killed member's partitions over in seconds.
    private static final Map<String, String> SETTINGS = Map.of("kafka.session.timeout.ms", "6000");

    private final List<String> figures = new ArrayList<>();
    private Path logs;
    private int port;
    private ServiceProcess service;

    @Test
    void fileEachReportOnceThroughEachFault() throws Exception {
        logs = Files.createTempDirectory("vigil-triage-fault-it-");
        try (Devstack stack = Devstack.start(DevstackConfig.forTests().durablePostgres())) {
            Endpoints endpoints = stack.endpoints();
            // As a production database runs: a commit PostgreSQL acknowledged survives its crash.
            assertThat(column(
                            endpoints,
                            "SELECT current_setting('fsync') || ' ' || current_setting('synchronous_commit')"))
                    .containsExactly("on on");
            figures.add("PostgreSQL fsync=on, synchronous_commit=on");
            try (CrashReportTraffic traffic = new CrashReportTraffic(endpoints, INCIDENTS_PER_SECOND)) {
                port = Ports.free();
                service = start(endpoints, "service-1.log");
                traffic.start();
                await().atMost(RECOVERY).until(() -> filed(endpoints).size() >= 100);

                // PostgreSQL crashes under load and comes back on its own.
                stack.killPostgres();
                Instant killed = Instant.now();
                await().atMost(Duration.ofSeconds(30)).until(() -> ready() == 503);
                Duration noticed = Duration.between(killed, Instant.now());
                await().during(POSTGRES_DOWN)
                        .atMost(POSTGRES_DOWN.plusSeconds(5))
                        .until(() -> ready() == 503 && service.isAlive());
                Set<String> sent = traffic.incidents();
                stack.startPostgres();
                Instant restored = Instant.now();
                await().atMost(RECOVERY).until(() -> ready() == 200);
                Duration readyAgain = Duration.between(restored, Instant.now());
                Duration caughtUp = awaitFiled(endpoints, sent, restored);
                figures.add(String.format(
                        "postgresql SIGKILL, down %d s: readiness DOWN after %.1f s, UP %.1f s after restart,"
                                + " backlog filed %.1f s after restart",
                        POSTGRES_DOWN.toSeconds(), seconds(noticed), seconds(readyAgain), seconds(caughtUp)));

                // The broker goes away and comes back.
                stack.stopKafka();
                await().during(BROKER_DOWN).atMost(BROKER_DOWN.plusSeconds(5)).until(service::isAlive);
                boolean readyDuringBrokerOutage = ready() == 200;
                stack.startKafka();
                restored = Instant.now();
                int before = traffic.incidents().size();
                await().atMost(RECOVERY).until(() -> traffic.incidents().size() > before + 20);
                caughtUp = awaitFiled(endpoints, traffic.incidents(), restored);
                await().atMost(RECOVERY).until(() -> ready() == 200);
                readyAgain = Duration.between(restored, Instant.now());
                figures.add(String.format(
                        "broker stopped %d s: readiness %s at its end, UP %.1f s after restart, backlog filed %.1f s"
                                + " after restart",
                        BROKER_DOWN.toSeconds(),
                        readyDuringBrokerOutage ? "UP" : "DOWN",
                        seconds(readyAgain),
                        seconds(caughtUp)));

                // The service dies mid-stream and its supervisor starts it again.
                int filedBefore = filed(endpoints).size();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> filed(endpoints).size() > filedBefore + 20);
                sent = traffic.incidents();
                service.kill();
                Instant died = Instant.now();
                service = start(endpoints, "service-2.log");
                Duration restarted = Duration.between(died, Instant.now());
                caughtUp = awaitFiled(endpoints, sent, died);
                figures.add(String.format(
                        "service SIGKILL mid-stream: ready again %.1f s after the kill, backlog filed %.1f s after"
                                + " the kill",
                        seconds(restarted), seconds(caughtUp)));

                traffic.stop();
                Set<String> incidents = traffic.incidents();
                awaitFiled(endpoints, incidents, Instant.now());
                // Both reports of every incident are through once the refined ones are all filed.
                await().atMost(RECOVERY).until(() -> refined(endpoints) >= incidents.size());

                List<String> reports = column(endpoints, "SELECT incident_id FROM triage.report");
                List<String> miscounted = column(endpoints, """
                        SELECT b.title || ': counts ' || b.report_count || ', holds ' || count(r.incident_id)
                        FROM triage.bucket b LEFT JOIN triage.report r ON r.bucket_id = b.id
                        GROUP BY b.id HAVING b.report_count <> count(r.incident_id)""");
                List<String> mistallied = column(endpoints, """
                        SELECT b.title || ': tallies ' || coalesce(t.reports, 0) || ', holds ' || b.report_count
                        FROM triage.bucket b
                        LEFT JOIN (SELECT bucket_id, sum(reports) AS reports FROM triage.bucket_tally
                                   WHERE grain = 'd' GROUP BY bucket_id) t ON t.bucket_id = b.id
                        WHERE coalesce(t.reports, 0) <> b.report_count""");
                long counted =
                        Long.parseLong(column(endpoints, "SELECT coalesce(sum(report_count), 0) FROM triage.bucket")
                                .get(0));
                long deadLetters = deadLetters(endpoints);
                figures.add(String.format(
                        "incidents: sent %d (%d reports), filed %d, lost %d, counted in buckets %d (double counts"
                                + " %d), buckets miscounted %d, dead letters %d; %d sends repeated",
                        incidents.size(),
                        incidents.size() * 2,
                        reports.stream().filter(incidents::contains).count(),
                        incidents.stream()
                                .filter(i -> !new HashSet<>(reports).contains(i))
                                .count(),
                        counted,
                        counted - reports.size(),
                        miscounted.size() + mistallied.size(),
                        deadLetters,
                        traffic.resends()));
                figures.forEach(f -> System.out.println("FaultIT: " + f));

                assertThat(reports).containsAll(incidents).doesNotHaveDuplicates();
                assertThat(counted).isEqualTo(reports.size());
                assertThat(miscounted).isEmpty();
                assertThat(mistallied).isEmpty();
                assertThat(deadLetters).isZero();
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

    /** Waits until every incident of {@code sent} is filed; returns how long that took from {@code from}. */
    private static Duration awaitFiled(Endpoints endpoints, Set<String> sent, Instant from) {
        await().atMost(RECOVERY)
                .pollInterval(Duration.ofMillis(500))
                .until(() -> filed(endpoints).containsAll(sent));
        return Duration.between(from, Instant.now());
    }

    private static Set<String> filed(Endpoints endpoints) {
        try {
            return new HashSet<>(column(endpoints, "SELECT incident_id FROM triage.report"));
        } catch (IllegalStateException e) {
            // PostgreSQL is down: nothing readable yet.
            return Set.of();
        }
    }

    /** Reports filed from their evidence (no longer provisional). */
    private static long refined(Endpoints endpoints) {
        return Long.parseLong(column(endpoints, "SELECT count(*) FROM triage.report WHERE NOT provisional")
                .get(0));
    }

    private static List<String> column(Endpoints endpoints, String query) {
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(query)) {
            List<String> values = new ArrayList<>();
            while (rs.next()) {
                values.add(rs.getString(1));
            }
            return values;
        } catch (SQLException e) {
            throw new IllegalStateException("reading triage's tables: " + e.getMessage(), e);
        }
    }

    /** Records on the dead-letter topic: on this stack only triage could have put them there. */
    private static long deadLetters(Endpoints endpoints) {
        Properties props = new Properties();
        props.putAll(endpoints.kafkaClient());
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(TopicCatalog.INGESTION_DEAD_LETTER.name()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition()))
                    .toList();
            Map<TopicPartition, Long> first = consumer.beginningOffsets(partitions);
            return consumer.endOffsets(partitions).entrySet().stream()
                    .mapToLong(e -> e.getValue() - first.get(e.getKey()))
                    .sum();
        }
    }

    private static double seconds(Duration duration) {
        return duration.toMillis() / 1000.0;
    }
}
