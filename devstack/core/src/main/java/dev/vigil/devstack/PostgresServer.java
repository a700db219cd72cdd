package dev.vigil.devstack;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A real PostgreSQL server (zonky's embedded binaries) on loopback, holding the {@code vigil} database. */
final class PostgresServer implements AutoCloseable {

    static final String DATABASE = "vigil";
    static final String USER = "postgres";

    private final EmbeddedPostgres postgres;
    private final Path dataDir;

    private PostgresServer(EmbeddedPostgres postgres, Path dataDir) {
        this.postgres = postgres;
        this.dataDir = dataDir;
    }

    static PostgresServer start(DevstackConfig config) {
        Ports.requireFree(config.postgresPort(), "PostgreSQL", "VIGIL_DEVSTACK_POSTGRES_PORT");
        Path dataDir = config.workDir().resolve("postgres");
        Path log = config.workDir().resolve("postgres.log");
        try {
            Files.createDirectories(config.workDir());
            EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                    .setPort(config.postgresPort())
                    .setDataDirectory(dataDir)
                    // Never wiped by the server: a killed one restarts on its data (crash recovery), and a test
                    // stack's whole work directory goes when the stack closes.
                    .setCleanDataDirectory(false)
                    .setRegisterShutdownHook(false)
                    .setPGStartupWait(Duration.ofSeconds(30))
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("fsync", config.durable() ? "on" : "off")
                    // The embedded server's default is off; PostgreSQL's own default, which production keeps, is on.
                    .setServerConfig("synchronous_commit", config.durable() ? "on" : "off")
                    .setOutputRedirector(Redirect.appendTo(log.toFile()))
                    .setErrorRedirector(Redirect.appendTo(log.toFile()))
                    .start();
            PostgresServer server = new PostgresServer(postgres, dataDir);
            server.createDatabase();
            return server;
        } catch (IOException | SQLException | RuntimeException e) {
            throw new DevstackException(
                    "PostgreSQL failed to start on 127.0.0.1:" + config.postgresPort() + " (log: " + log + "): "
                            + e.getMessage(),
                    e);
        }
    }

    String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/" + DATABASE;
    }

    /**
     * Kills the postmaster and every process it started with SIGKILL, as a power cut or the OOM killer would, and
     * waits until they are gone; the data directory is left as the crash left it, for {@link #start} to recover.
     */
    void kill() {
        long pid = postmasterPid(dataDir);
        ProcessHandle postmaster = ProcessHandle.of(pid)
                .orElseThrow(() -> new DevstackException("PostgreSQL's postmaster (pid " + pid + ") is not running"));
        List<ProcessHandle> all = new ArrayList<>(postmaster.descendants().toList());
        all.add(0, postmaster);
        all.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle process : all) {
            try {
                process.onExit().get(15, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DevstackException("interrupted while PostgreSQL's processes died", e);
            } catch (ExecutionException | TimeoutException e) {
                throw new DevstackException("PostgreSQL process " + process.pid() + " survived SIGKILL", e);
            }
        }
        try {
            // Releases the embedded server's lock on the data directory; its "pg_ctl stop" finds nothing to stop.
            postgres.close();
        } catch (IOException e) {
            // Expected: there was no server left to stop.
        }
    }

    @Override
    public void close() throws IOException {
        postgres.close();
    }

    private static long postmasterPid(Path dataDir) {
        try {
            return Long.parseLong(
                    Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
        } catch (IOException | RuntimeException e) {
            throw new DevstackException("cannot read PostgreSQL's postmaster.pid in " + dataDir, e);
        }
    }

    private void createDatabase() throws SQLException {
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement()) {
            try (ResultSet rs =
                    statement.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'")) {
                if (rs.next()) {
                    return;
                }
            }
            statement.execute("CREATE DATABASE " + DATABASE);
        }
    }
}
