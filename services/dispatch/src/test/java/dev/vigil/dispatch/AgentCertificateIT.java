package dev.vigil.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.delivery.DispatchConnection;
import dev.vigil.agent.delivery.KafkaCertificate;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.TopicCatalog;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.security.auth.x500.X500Principal;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dispatch's enrolment CA signs a host's Kafka client certificate for a key only the host holds: the broker takes it
 * as an agent (what agents may write, nothing else), it names the host, it ends with its validity, and a revoked host
 * gets no other.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(TestKeys.class)
class AgentCertificateIT {

    @TempDir
    Path dir;

    @Test
    void aHostsCertificateIsAnAgentsToTheBrokerAndNamesTheHost() throws Exception {
        String host = "cert-" + UUID.randomUUID();
        String token = Enrolments.hostToken(host);
        KeyPair key = ecKey();

        Instant asked = Instant.now();
        JsonPath issued = Enrolments.asHost(token)
                .contentType("application/json")
                .body(Map.of("csr", csr(key, key.getPrivate())))
                .post("/api/v1/agent/kafka-certificate")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        List<X509Certificate> chain = chain(issued.getString("certificateChain"));
        X509Certificate leaf = chain.get(0);

        // The subject is dispatch's: the agents' principal first, then the host and the tenant.
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=vigil-agent,OU=" + host + ",O=acme");
        assertThat(issued.getString("subject"))
                .isEqualTo(leaf.getSubjectX500Principal().getName());
        assertThat(leaf.getPublicKey()).isEqualTo(key.getPublic());
        assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        // Two days (the default validity), from now.
        assertThat(leaf.getNotAfter().toInstant())
                .isBetween(
                        asked.plus(Duration.ofDays(2)).minusSeconds(60),
                        asked.plus(Duration.ofDays(2)).plusSeconds(60))
                .isEqualTo(
                        Instant.parse(issued.getString("notAfter")).truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        // Signed by the enrolment CA, which the stack's CA (the broker's trust) signed.
        leaf.verify(chain.get(1).getPublicKey());
        chain.get(1).verify(chain.get(2).getPublicKey());
        assertThat(chain.get(1).getBasicConstraints()).isEqualTo(0);

        // The broker maps it to vigil-agent: it writes an agent topic, and nothing an agent may not.
        Map<String, Object> client = client(key.getPrivate(), chain);
        try (KafkaProducer<byte[], byte[]> producer = producer(client)) {
            assertThat(producer.send(new ProducerRecord<>(
                                    TopicCatalog.AGENT_SAMPLES.name(),
                                    host.getBytes(StandardCharsets.UTF_8),
                                    new byte[] {1}))
                            .get(30, TimeUnit.SECONDS)
                            .offset())
                    .isNotNegative();
        }
        try (KafkaProducer<byte[], byte[]> producer = producer(client)) {
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>(
                                    TopicCatalog.DISPATCH_ROLLOUTS.name(), new byte[] {1}, new byte[] {1}))
                            .get(30, TimeUnit.SECONDS))
                    .hasRootCauseInstanceOf(TopicAuthorizationException.class);
        }

        // Revoked: no further certificate, and the admin reads when the last one ends.
        Staff.admin()
                .contentType("application/json")
                .body(Map.of("reason", "decommissioned"))
                .post("/api/v1/hosts/{id}/revocation", host)
                .then()
                .statusCode(200)
                .body("kafkaCertificateValidUntil", equalTo(issued.getString("notAfter")));
        Enrolments.asHost(token)
                .contentType("application/json")
                .body(Map.of("csr", csr(key, key.getPrivate())))
                .post("/api/v1/agent/kafka-certificate")
                .then()
                .statusCode(401);
    }

    @Test
    void anEnrolledAgentPublishesWithTheCertificateDispatchIssuesIt() throws Exception {
        String host = "cert-agent-" + UUID.randomUUID();
        try (RunningAgent agent = RunningAgent.start(host)) {
            // Its configuration names no key store: it asked dispatch for a certificate for a key of its own.
            Path store = agent.stateDir.resolve("delivery/kafka-client.p12");
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(store));
            assertThat(Files.getPosixFilePermissions(store))
                    .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
            X509Certificate first = leafOf(store);
            assertThat(first.getSubjectX500Principal().getName()).isEqualTo("CN=vigil-agent,OU=" + host + ",O=acme");

            // What it observes reaches the broker through that certificate: its start, on the events topic.
            assertThat(Topics.read(TopicCatalog.AGENT_EVENTS, r -> mentions(r.value(), host), 1))
                    .isNotEmpty();

            // A renewal (a new key and certificate) replaces the key store; the agent publishes on with it.
            AgentConfig config = AgentConfig.load(Map.of(
                    "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS", "unused:9092",
                    "VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL", "SSL",
                    "VIGIL_AGENT_STATE_DIR", agent.stateDir.toString(),
                    "VIGIL_AGENT_HOST_ID", host,
                    "VIGIL_AGENT_HYPERVISOR_URI", "test:///default"));
            KafkaCertificate.Validity renewed = KafkaCertificate.request(
                    config,
                    new DispatchConnection("http://localhost:" + RestAssured.port, null, Duration.ofSeconds(1))
                            .withHostToken(dev.vigil.agent.delivery.Enrolment.load(agent.stateDir)
                                    .hostToken()));
            X509Certificate second = leafOf(store);
            assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
            assertThat(second.getPublicKey()).isNotEqualTo(first.getPublicKey());
            assertThat(second.getNotAfter().toInstant()).isEqualTo(renewed.notAfter());
            String vm = agent.vm("after-renewal").getName();
            assertThat(Topics.read(TopicCatalog.AGENT_EVENTS, r -> mentions(r.value(), vm), 1))
                    .isNotEmpty();
        }
    }

    @Test
    void requestsThatProveNothingOrAskTooMuchAreRefused() throws Exception {
        String token = Enrolments.hostToken("cert-bad-" + UUID.randomUUID());
        KeyPair key = ecKey();
        refused(token, Map.of(), "send {csr}");
        refused(token, Map.of("csr", "hello"), "not a PEM CERTIFICATE REQUEST");
        refused(token, Map.of("csr", "x".repeat(20_000)), "at most 16384");
        // A request for one key signed by another: the asker does not hold the key it wants certified.
        refused(token, Map.of("csr", csr(key, ecKey().getPrivate())), "does not verify");
        // A key too weak for a client certificate.
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(1024);
        KeyPair weak = rsa.generateKeyPair();
        refused(token, Map.of("csr", csr(weak, weak.getPrivate())), "too weak");
        // A certificate is not a request.
        String notRequest = "-----BEGIN CERTIFICATE-----\n"
                + java.util.Base64.getMimeEncoder().encodeToString(new byte[64]) + "\n-----END CERTIFICATE-----\n";
        refused(token, Map.of("csr", notRequest), "not a PEM CERTIFICATE REQUEST");
        // Staff are not hosts.
        Staff.admin()
                .contentType("application/json")
                .body(Map.of("csr", csr(key, key.getPrivate())))
                .post("/api/v1/agent/kafka-certificate")
                .then()
                .statusCode(403);
    }

    private static boolean mentions(byte[] record, String text) {
        return new String(record, StandardCharsets.ISO_8859_1).contains(text);
    }

    private static X509Certificate leafOf(Path store) throws Exception {
        char[] password = Files.readString(store.resolveSibling("kafka-client.password"))
                .strip()
                .toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(store)) {
            keys.load(in, password);
        }
        return (X509Certificate) keys.getCertificate(keys.aliases().nextElement());
    }

    private static void refused(String token, Map<String, String> body, String detail) {
        Enrolments.asHost(token)
                .contentType("application/json")
                .body(body)
                .post("/api/v1/agent/kafka-certificate")
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("title", equalTo("Bad certificate request"))
                .body("detail", containsString(detail));
    }

    static KeyPair ecKey() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    /** A PKCS#10 request for {@code key}'s public half, signed with {@code signer}, claiming to be somebody else. */
    static String csr(KeyPair key, PrivateKey signer) throws Exception {
        String algorithm = signer.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        StringWriter text = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
            pem.writeObject(new JcaPKCS10CertificationRequestBuilder(
                            new X500Principal("CN=vigil-ingestion, O=evil"), key.getPublic())
                    .build(new JcaContentSignerBuilder(algorithm).build(signer)));
        }
        return text.toString();
    }

    private static List<X509Certificate> chain(String pem) throws Exception {
        return CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))
                .stream()
                .map(X509Certificate.class::cast)
                .toList();
    }

    /** Kafka settings that present this key and chain, and trust the stack's broker. */
    private Map<String, Object> client(PrivateKey key, List<X509Certificate> chain) throws Exception {
        char[] password = "changeit".toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("agent", key, password, chain.toArray(new Certificate[0]));
        Path file = dir.resolve("agent.p12");
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, password);
        }
        var endpoints = Devstack.shared().endpoints();
        Map<String, Object> props = new HashMap<>(endpoints.kafkaTls().trustProperties());
        props.put("bootstrap.servers", endpoints.kafkaBootstrapServers());
        props.put("ssl.keystore.type", "PKCS12");
        props.put("ssl.keystore.location", file.toString());
        props.put("ssl.keystore.password", "changeit");
        props.put("ssl.key.password", "changeit");
        return props;
    }

    private static KafkaProducer<byte[], byte[]> producer(Map<String, Object> client) {
        Map<String, Object> props = new HashMap<>(client);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }
}
