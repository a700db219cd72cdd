package dev.vigil.devstack;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Vigil service as a child JVM started from its Quarkus jar and pointed at a stack: how {@code devstack/run} runs
 * the platform, and how tests stop and restart a service (or kill it outright) while its data lives on.
 */
public final class ServiceProcess implements AutoCloseable {

    private final Process process;
    private final Path log;

    private ServiceProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code app} (a {@code quarkus-run.jar}) on {@code httpPort} with the stack's endpoints and {@code extra}
     * system properties, its output appended to {@code log}.
     */
    public static ServiceProcess start(Path app, Endpoints endpoints, int httpPort, Map<String, String> extra, Path log)
            throws IOException {
        if (!Files.isRegularFile(app)) {
            throw new DevstackException("the service is not built (" + app
                    + " is missing): run ./mvnw install -Dquick, or start through devstack/run which builds it");
        }
        Files.createDirectories(log.getParent());
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        // Extra JVM options for every service the stack starts, e.g. a flight recording while a benchmark runs;
        // {log} stands for the service's log file, so each process can write its own recording beside it.
        String options = System.getenv("VIGIL_SERVICE_JVM_OPTIONS");
        if (options != null && !options.isBlank()) {
            for (String option : options.trim().split("\\s+")) {
                command.add(option.replace("{log}", log.toString()));
            }
        }
        for (Map.Entry<String, String> property :
                endpoints.quarkusProperties(serviceName(app)).entrySet()) {
            command.add("-D" + property.getKey() + "=" + property.getValue());
        }
        for (Map.Entry<String, String> property : extra.entrySet()) {
            command.add("-D" + property.getKey() + "=" + property.getValue());
        }
        command.add("-Dquarkus.http.port=" + httpPort);
        command.add("-Dquarkus.http.host=127.0.0.1");
        command.add("-jar");
        command.add(app.toString());
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        return new ServiceProcess(process, log);
    }

    /**
     * The service's application name (its Kafka principal) from where its jar lies:
     * {@code services/<name>/target/quarkus-app/quarkus-run.jar} is {@code vigil-<name>}.
     */
    static String serviceName(Path app) {
        Path absolute = app.toAbsolutePath().normalize();
        Path target = absolute.getParent() == null ? null : absolute.getParent().getParent();
        if (target == null
                || target.getParent() == null
                || !target.getFileName().toString().equals("target")) {
            throw new DevstackException("cannot tell which service " + app
                    + " is: expected services/<name>/target/quarkus-app/quarkus-run.jar");
        }
        return "vigil-" + target.getParent().getFileName();
    }

    /**
     * The status of the service's readiness check at {@code baseUrl} ({@code 200} ready, {@code 503} not), or -1
     * when nothing answers.
     */
    public static int readiness(String baseUrl) {
        try {
            return HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(baseUrl + "/q/health/ready"))
                                    .timeout(Duration.ofSeconds(5))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Waits until the service reports ready, or fails with the tail of its log. */
    public void awaitReady(String baseUrl, Duration timeout) throws InterruptedException {
        HttpClient client =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create(baseUrl + "/q/health/ready"))
                .timeout(Duration.ofSeconds(2))
                .build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new DevstackException("the service exited with code " + process.exitValue() + ":\n" + tail());
            }
            try {
                if (client.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // Not listening yet.
            }
            TimeUnit.MILLISECONDS.sleep(250);
        }
        throw new DevstackException("the service was not ready within " + timeout.toSeconds() + " s:\n" + tail());
    }

    /** Whether the process is still running (it has not exited or been killed). */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** Kills the process without warning (SIGKILL), as a crash or an OOM kill would, and waits for it to go. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(15, TimeUnit.SECONDS);
    }

    /** Asks the process to stop (SIGTERM) and waits for it; kills it if it does not stop within 15 s. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    private String tail() {
        return tail(log);
    }

    /** The last 30 lines of a server's log, for an error that says why it did not start. */
    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(log " + log + " unreadable: " + e.getMessage() + ")";
        }
    }
}
