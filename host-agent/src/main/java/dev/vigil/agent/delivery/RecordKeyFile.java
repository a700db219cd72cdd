package dev.vigil.agent.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vigil.schemas.RecordSeals;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Base64;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * This host's record key (ADR 0007), which dispatch gave it at enrolment and with which the agent seals every record
 * it publishes. The running agent reads the file again when it changes, so a host enrolled while its agent runs
 * seals from then on; until it is enrolled its records go unsealed, and an ingestion that checks identity refuses
 * them as {@code IDENTITY_MISMATCH} (they wait on the dead-letter topic for a replay).
 */
public final class RecordKeyFile implements Supplier<RecordSeals.HostKey> {

    private static final System.Logger LOG = System.getLogger(RecordKeyFile.class.getName());
    private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final Path file;
    private final String tenant;
    private final String hostId;
    private volatile RecordSeals.HostKey key;
    private volatile FileTime seen;
    private volatile long checkedAt;

    /** The key file of the agent whose state is {@code stateDir}, for the host and tenant it reports as. */
    public RecordKeyFile(Path stateDir, String tenant, String hostId) {
        this.file = stateDir.resolve(RecordSeals.AGENT_KEY_FILE);
        this.tenant = tenant;
        this.hostId = hostId;
    }

    /** Writes a host's key where its agent reads it, owner-readable only, replacing the one before. */
    public static void save(Path stateDir, RecordSeals.HostKey key) throws IOException {
        Path file = stateDir.resolve(RecordSeals.AGENT_KEY_FILE);
        Files.createDirectories(file.getParent());
        Path partial = Files.createTempFile(
                file.getParent(),
                "record-key",
                ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (Writer out = Files.newBufferedWriter(partial, StandardCharsets.UTF_8)) {
            key.toProperties().store(out, "This host's record key from enrolment: it seals the agent's records");
        }
        Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * The key in dispatch's answer ({@code {tenant, epoch, key}}, at enrolment and on renewal), for this host.
     *
     * @throws IllegalArgumentException when the answer is not a key
     */
    public static RecordSeals.HostKey fromAnswer(JsonNode answer, String hostId) {
        if (!answer.path("tenant").isTextual()
                || !answer.path("epoch").isInt()
                || !answer.path("key").isTextual()) {
            throw new IllegalArgumentException("dispatch's record key is not {tenant, epoch, key}");
        }
        return new RecordSeals.HostKey(
                answer.path("tenant").asText(),
                hostId,
                answer.path("epoch").asInt(),
                Base64.getDecoder().decode(answer.path("key").asText()));
    }

    /**
     * Keeps {@code renewed} where the agent reads it when it differs from the key held (a new epoch after a
     * rotation).
     *
     * @return whether the key changed
     */
    public static boolean renew(Path stateDir, RecordSeals.HostKey renewed) throws IOException {
        RecordSeals.HostKey current = new RecordKeyFile(stateDir, renewed.tenant(), renewed.hostId()).read();
        if (current != null
                && current.epoch() == renewed.epoch()
                && Arrays.equals(current.key(), renewed.key())
                && current.tenant().equals(renewed.tenant())
                && current.hostId().equals(renewed.hostId())) {
            return false;
        }
        save(stateDir, renewed);
        return true;
    }

    /**
     * Reads the key now and checks that it is this agent's host's and tenant's.
     *
     * @return the key, or null when the host is not enrolled
     * @throws IllegalStateException when the file is unreadable or names another host or tenant
     */
    public RecordSeals.HostKey check() {
        RecordSeals.HostKey read = read();
        if (read != null && (!read.hostId().equals(hostId) || !read.tenant().equals(tenant))) {
            throw new IllegalStateException(file + " is the record key of host " + read.hostId() + " of tenant "
                    + read.tenant() + ", but this agent reports as host " + hostId + " of tenant " + tenant
                    + ": set VIGIL_AGENT_HOST_ID and VIGIL_AGENT_TENANT to what the host enrolled as, or enrol again");
        }
        key = read;
        checkedAt = System.nanoTime();
        return read;
    }

    /** The current key, read again at most every few seconds when the file changed; null while not enrolled. */
    @Override
    public RecordSeals.HostKey get() {
        long now = System.nanoTime();
        if (now - checkedAt >= RECHECK_NANOS) {
            checkedAt = now;
            try {
                FileTime modified = Files.getLastModifiedTime(file);
                if (!modified.equals(seen)) {
                    check();
                    LOG.log(System.Logger.Level.INFO, "records are sealed with " + key);
                }
            } catch (NoSuchFileException e) {
                key = null;
            } catch (IOException | IllegalStateException e) {
                LOG.log(System.Logger.Level.ERROR, "the record key stays as it was: " + e.getMessage());
            }
        }
        return key;
    }

    private RecordSeals.HostKey read() {
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            Properties properties = new Properties();
            try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                properties.load(in);
            }
            seen = modified;
            return RecordSeals.HostKey.fromProperties(properties);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the record key " + file, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(file + " is not a record key: " + e.getMessage() + "; enrol again", e);
        }
    }
}
