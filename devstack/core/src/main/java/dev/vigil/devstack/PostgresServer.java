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

/** A real PostgreSQL server (zonky's embedded binaries) on loopback, holding the {@code vigil} database. */
final class PostgresServer implements AutoCloseable {

    static final String DATABASE = "vigil";
    static final String USER = "postgres";

    private final EmbeddedPostgres postgres;

    private PostgresServer(EmbeddedPostgres postgres) {
        this.postgres = postgres;
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
                    .setCleanDataDirectory(!config.keepData())
                    .setRegisterShutdownHook(false)
                    .setPGStartupWait(Duration.ofSeconds(30))
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("fsync", config.keepData() ? "on" : "off")
                    .setOutputRedirector(Redirect.appendTo(log.toFile()))
                    .setErrorRedirector(Redirect.appendTo(log.toFile()))
                    .start();
            PostgresServer server = new PostgresServer(postgres);
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

    @Override
    public void close() throws IOException {
        postgres.close();
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
