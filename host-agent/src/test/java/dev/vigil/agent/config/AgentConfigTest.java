package dev.vigil.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vigil.agent.capture.CaptureSettings;
import dev.vigil.agent.capture.DumpPolicy;
import dev.vigil.agent.capture.OnCrashAction;
import dev.vigil.agent.capture.TriggerKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentConfigTest {

    @Test
    void rejectsAMissingBootstrapServerNamingTheVariable() {
        assertThatThrownBy(() -> AgentConfig.load(Map.of()))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageStartingWith("VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS is not set");
    }

    @Test
    void appliesDefaultsForOptionalKeys() {
        AgentConfig config = AgentConfig.load(Map.of(
                "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS", "broker:9092", "VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL", "SSL"));

        assertThat(config.hypervisorUri()).isEqualTo("test:///default");
        assertThat(config.agentId()).isEqualTo(config.hostId() + "-agent");
        assertThat(config.heartbeatInterval()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void rejectsANonPositiveHeartbeatWithTheAcceptedForms() {
        assertThatThrownBy(() -> AgentConfig.load(Map.of(
                        "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS",
                        "b:1",
                        "VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL",
                        "SSL",
                        "VIGIL_AGENT_HEARTBEAT_INTERVAL",
                        "-5s")))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("VIGIL_AGENT_HEARTBEAT_INTERVAL=-5s")
                .hasMessageContaining("PT30S");
    }

    @Test
    void captureIsOffWithoutAnObjectStoreAndReadsItsPoliciesWhenOneIsSet() {
        assertThat(AgentConfig.load(Map.of(
                                "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS",
                                "b:1",
                                "VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL",
                                "SSL"))
                        .capture()
                        .enabled())
                .isFalse();

        CaptureSettings capture = AgentConfig.load(Map.of(
                        "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS",
                        "b:1",
                        "VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL",
                        "SSL",
                        "VIGIL_AGENT_S3_ENDPOINT",
                        "http://s3:9000",
                        "VIGIL_AGENT_S3_ACCESS_KEY",
                        "a",
                        "VIGIL_AGENT_S3_SECRET_KEY",
                        "s",
                        "VIGIL_AGENT_DUMP_POLICY",
                        "crash=full, io-error=kernel",
                        "VIGIL_AGENT_ON_CRASH",
                        "Relaunch",
                        "VIGIL_AGENT_ARTIFACT_ENCRYPTION_KEY",
                        java.util.Base64.getEncoder().encodeToString(new byte[32])))
                .capture();
        assertThat(capture.enabled()).isTrue();
        assertThat(capture.bucket()).isEqualTo("vigil-artifacts");
        assertThat(capture.dumpPolicies())
                .containsEntry(TriggerKind.CRASH, DumpPolicy.FULL)
                .containsEntry(TriggerKind.IO_ERROR, DumpPolicy.KERNEL)
                .containsEntry(TriggerKind.HANG, DumpPolicy.KERNEL);
        assertThat(capture.onCrash()).isEqualTo(OnCrashAction.RELAUNCH);
        assertThat(capture.encryptionKey()).hasSize(32);
    }

    @Test
    void badCaptureSettingsNameTheKeyAndTheFix() {
        Map<String, String> base = Map.of(
                "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS",
                "b:1",
                "VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL",
                "SSL",
                "VIGIL_AGENT_S3_ENDPOINT",
                "http://s3:9000",
                "VIGIL_AGENT_S3_ACCESS_KEY",
                "a",
                "VIGIL_AGENT_S3_SECRET_KEY",
                "s");
        assertThatThrownBy(() -> AgentConfig.load(with(base, "VIGIL_AGENT_DUMP_POLICY", "panic=full")))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("'panic=full'")
                .hasMessageContaining("crash, hang, watchdog, io-error");
        assertThatThrownBy(() -> AgentConfig.load(with(base, "VIGIL_AGENT_ARTIFACT_ENCRYPTION_KEY", "c2hvcnQ=")))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("256-bit");
        assertThatThrownBy(() -> AgentConfig.load(with(base, "VIGIL_AGENT_ON_CRASH", "reboot")))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("preserve, restart or relaunch");
        assertThatThrownBy(() -> AgentConfig.load(Map.of(
                        "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS",
                        "b:1",
                        "VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL",
                        "SSL",
                        "VIGIL_AGENT_S3_ENDPOINT",
                        "http://s3:9000")))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("VIGIL_AGENT_S3_ACCESS_KEY");
    }

    @Test
    void anEnrolledHostStoresEvidenceThroughDispatchsLinksAndHoldsNoStoreCredentials() {
        Map<String, String> base = Map.of(
                "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS",
                "b:1",
                "VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL",
                "SSL",
                "VIGIL_AGENT_EVIDENCE_UPLOAD",
                "links");
        assertThatThrownBy(() -> AgentConfig.load(base))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("needs VIGIL_AGENT_DISPATCH_URL");
        Map<String, String> enrolled = with(base, "VIGIL_AGENT_DISPATCH_URL", "https://dispatch.example");
        CaptureSettings capture = AgentConfig.load(enrolled).capture();
        assertThat(capture.enabled()).isTrue();
        assertThat(capture.uploadLinks()).isTrue();
        assertThat(capture.s3AccessKey()).isNull();
        assertThatThrownBy(() -> AgentConfig.load(with(enrolled, "VIGIL_AGENT_S3_ACCESS_KEY", "a")))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("remove VIGIL_AGENT_S3_ENDPOINT and the object store's credentials");
        assertThatThrownBy(() -> AgentConfig.load(with(base, "VIGIL_AGENT_EVIDENCE_UPLOAD", "s3")))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("is not links");
        assertThatThrownBy(() -> AgentConfig.load(with(base, "VIGIL_AGENT_EVIDENCE_UPLOAD", "store")))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("needs VIGIL_AGENT_S3_ENDPOINT");
    }

    @Test
    void kafkaSecurityMustBeNamedAndItsKeysBecomeClientSettings() {
        assertThatThrownBy(() -> AgentConfig.load(Map.of("VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS", "b:1")))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageStartingWith("VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL is not set")
                .hasMessageContaining("PLAINTEXT only where");
        assertThatThrownBy(() -> AgentConfig.load(Map.of(
                        "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS", "b:1", "VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL", "TLS")))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL=TLS is not one of");
        assertThatThrownBy(() -> AgentConfig.load(Map.of(
                        "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS", "b:1",
                        "VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL", "SSL",
                        "VIGIL_AGENT_KAFKA_ACKS", "0")))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageStartingWith("VIGIL_AGENT_KAFKA_ACKS is not a Kafka security setting");

        AgentConfig config = AgentConfig.load(Map.of(
                "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS", "b:1",
                "VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL", "ssl",
                "VIGIL_AGENT_KAFKA_SSL_KEYSTORE_LOCATION", "/etc/vigil/agent.p12",
                "VIGIL_AGENT_KAFKA_SSL_TRUSTSTORE_LOCATION", "/etc/vigil/ca.p12"));
        assertThat(config.kafkaClient())
                .containsEntry("bootstrap.servers", "b:1")
                .containsEntry("security.protocol", "SSL")
                .containsEntry("ssl.keystore.location", "/etc/vigil/agent.p12")
                .containsEntry("ssl.truststore.location", "/etc/vigil/ca.p12")
                .hasSize(4);
    }

    @Test
    void anAgentWithoutAKeyStoreOfItsOwnConnectsWithTheCertificateDispatchIssuedIt(@TempDir Path dir) throws Exception {
        Map<String, String> enrolled = Map.of(
                "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS", "b:1",
                "VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL", "SSL",
                "VIGIL_AGENT_KAFKA_SSL_TRUSTSTORE_LOCATION", "/etc/vigil/ca.p12",
                "VIGIL_AGENT_STATE_DIR", dir.toString());
        AgentConfig config = AgentConfig.load(enrolled);
        assertThat(config.usesEnrolmentCertificate()).isTrue();
        // Not issued yet: no key store named, so the broker refuses it and records wait in the spool.
        assertThat(config.kafkaClient()).doesNotContainKey("ssl.keystore.location");
        String before = config.kafkaCredentials();

        Path store = dir.resolve("delivery/kafka-client.p12");
        Files.createDirectories(store.getParent());
        Files.writeString(store.resolveSibling("kafka-client.password"), "s3cret\n");
        Files.write(store, new byte[] {1, 2, 3});
        assertThat(config.kafkaClient())
                .containsEntry("ssl.keystore.location", store.toString())
                .containsEntry("ssl.keystore.type", "PKCS12")
                .containsEntry("ssl.keystore.password", "s3cret")
                .containsEntry("ssl.key.password", "s3cret")
                .containsEntry("ssl.truststore.location", "/etc/vigil/ca.p12");
        String issued = config.kafkaCredentials();
        assertThat(issued).isNotEqualTo(before);
        // A renewal replaces the file: the publisher sees other credentials and makes its producer again.
        Files.write(store, new byte[] {1, 2, 3, 4});
        assertThat(config.kafkaCredentials()).isNotEqualTo(issued);

        // A key store of its own, or SASL, and dispatch's certificate is not used.
        AgentConfig own =
                AgentConfig.load(with(enrolled, "VIGIL_AGENT_KAFKA_SSL_KEYSTORE_LOCATION", "/etc/vigil/a.p12"));
        assertThat(own.usesEnrolmentCertificate()).isFalse();
        assertThat(own.kafkaClient()).containsEntry("ssl.keystore.location", "/etc/vigil/a.p12");
        assertThat(AgentConfig.load(with(enrolled, "VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"))
                        .usesEnrolmentCertificate())
                .isFalse();
    }

    private static Map<String, String> with(Map<String, String> base, String key, String value) {
        Map<String, String> copy = new java.util.HashMap<>(base);
        copy.put(key, value);
        return copy;
    }

    @Test
    void environmentOverridesTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("agent.properties");
        Files.writeString(
                file,
                "kafka.bootstrap.servers=file:9092\nkafka.security.protocol=SSL\nhypervisor.uri=qemu:///system\nheartbeat-interval=PT5S\n");

        AgentConfig config = AgentConfig.load(
                Map.of("VIGIL_AGENT_CONFIG_FILE", file.toString(), "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS", "env:9092"));

        assertThat(config.kafkaBootstrapServers()).isEqualTo("env:9092");
        assertThat(config.hypervisorUri()).isEqualTo("qemu:///system");
        assertThat(config.heartbeatInterval()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void namesAnUnreadableFile(@TempDir Path dir) {
        Path missing = dir.resolve("absent.properties");

        assertThatThrownBy(() -> AgentConfig.load(Map.of("VIGIL_AGENT_CONFIG_FILE", missing.toString())))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("VIGIL_AGENT_CONFIG_FILE=" + missing);
    }
}
