package dev.vigil.devstack;

import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.KafkaAccess;
import dev.vigil.schemas.RecordSeals;
import dev.vigil.schemas.Topic;
import dev.vigil.schemas.TopicCatalog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The stack's record-key secret (ADR 0007), made once per work directory ({@code record-key-secret}, owner-readable
 * only) and never committed: the stack's dispatch issues hosts their keys from it and its ingestion checks seals with
 * it. Tests and load generators that play agents seal their records with it too ({@link #sealing()}), and agents
 * started by tests get their host's key as enrolment would give it ({@link #enrol}).
 */
public final class RecordKeySecret {

    private final byte[] secret;

    private RecordKeySecret(byte[] secret) {
        this.secret = secret;
    }

    /** The secret under {@code workDir}: read if a previous run made it, otherwise a new random one. */
    static RecordKeySecret open(Path workDir) {
        Path file = workDir.resolve("record-key-secret");
        try {
            if (Files.exists(file)) {
                return new RecordKeySecret(
                        Base64.getDecoder().decode(Files.readString(file).strip()));
            }
            byte[] secret = new byte[32];
            new SecureRandom().nextBytes(secret);
            Files.createDirectories(workDir);
            Path partial = Files.createTempFile(
                    workDir,
                    "record-key-secret",
                    ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(partial, Base64.getEncoder().encodeToString(secret));
            Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
            return new RecordKeySecret(secret);
        } catch (IOException e) {
            throw new DevstackException("cannot keep the record-key secret " + file + ": " + e.getMessage(), e);
        }
    }

    /** The secret as services take it ({@code vigil.identity.record-key.secret}). */
    public String base64() {
        return Base64.getEncoder().encodeToString(secret);
    }

    /** The key of a host of a tenant, epoch 1, as the stack's dispatch issues it. */
    public RecordSeals.HostKey hostKey(String tenant, String hostId) {
        return RecordSeals.hostKey(secret, 1, tenant, hostId);
    }

    /**
     * Gives an agent whose state is {@code stateDir} its host's key, where the agent reads it (as {@code vigil-agent
     * enroll} would after a redemption), for agents a test starts without enrolling them.
     */
    public void enrol(Path stateDir, String tenant, String hostId) {
        Path file = stateDir.resolve(RecordSeals.AGENT_KEY_FILE);
        try {
            Files.createDirectories(file.getParent());
            try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                hostKey(tenant, hostId).toProperties().store(out, "record key issued by the devstack");
            }
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the record key " + file, e);
        }
    }

    /**
     * A value serializer for producers that play agents: it passes the bytes through and seals each record sent to
     * an agent topic with the key of the host and tenant its envelope names. Records that already carry a seal, and
     * bytes that do not decode (a test's malformed record), are sent as they are.
     */
    public Serializer<byte[]> sealing() {
        return new Sealing();
    }

    private final class Sealing implements Serializer<byte[]> {

        private final Set<String> agentTopics =
                KafkaAccess.AGENT.writes().stream().map(Topic::name).collect(Collectors.toSet());
        private final Map<String, EventCodec.Projection> envelopes = new ConcurrentHashMap<>();

        @Override
        public byte[] serialize(String topic, byte[] data) {
            return data;
        }

        @Override
        public byte[] serialize(String topic, Headers headers, byte[] data) {
            if (data == null || headers.lastHeader(RecordSeals.MAC_HEADER) != null || !agentTopics.contains(topic)) {
                return data;
            }
            EventCodec.Projection envelope = envelopes.computeIfAbsent(
                    topic,
                    t -> EventCodec.of(TopicCatalog.byName(t).valueType()).projection(List.of("envelope")));
            GenericRecord decoded;
            try {
                decoded = envelope.decode(data);
            } catch (RuntimeException e) { // EventDecodingException, or a body the projection cannot read
                return data;
            }
            GenericRecord env = (GenericRecord) decoded.get("envelope");
            GenericRecord source = (GenericRecord) env.get("source");
            Object tenant = env.get("tenant");
            Object host = source.get("hostId");
            if (tenant != null && host != null) {
                RecordSeals.seal(hostKey(tenant.toString(), host.toString()), data, headers);
            }
            return data;
        }
    }
}
